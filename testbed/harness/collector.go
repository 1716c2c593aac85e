// Package harness runs the built otelcol-ollystack binary as a child process for end-to-end tests:
// free ports, a temporary config rendered from a template, health waiting, clean or hard stops, and
// the collector's own logs printed when a test fails.
package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"
)

const (
	startTimeout = 90 * time.Second
	stopTimeout  = 30 * time.Second
)

// Env is what a config template can refer to: free ports and a directory for files, shared by
// every collector a test starts from it, so a restarted collector finds its data again.
type Env struct {
	GRPC      int    // OTLP gRPC
	HTTP      int    // OTLP HTTP
	Health    int    // health_check extension
	API       int    // OllyStack HTTP API
	Telemetry int    // the collector's own metrics
	Dir       string // a temporary directory for stores, file exporters and the config itself
}

// NewEnv reserves free ports and a temporary directory.
func NewEnv(t testing.TB) *Env {
	t.Helper()
	return &Env{
		GRPC:      FreePort(t),
		HTTP:      FreePort(t),
		Health:    FreePort(t),
		API:       FreePort(t),
		Telemetry: FreePort(t),
		Dir:       t.TempDir(),
	}
}

// Path joins name onto the environment's directory.
func (e *Env) Path(name string) string { return filepath.Join(e.Dir, name) }

// Collector is a running otelcol-ollystack process.
type Collector struct {
	Env        *Env
	ConfigPath string

	cmd    *exec.Cmd
	logs   *syncBuffer
	exited chan struct{}
	err    error // the process's exit error, set before exited is closed
}

// StartCollector starts the binary with configTemplate rendered against a fresh Env.
func StartCollector(t testing.TB, configTemplate string) *Collector {
	t.Helper()
	return NewEnv(t).Start(t, configTemplate)
}

// Start renders configTemplate (text/template over the Env), starts the binary with it and waits
// until the health_check extension on Env.Health answers 200.
func (e *Env) Start(t testing.TB, configTemplate string) *Collector {
	t.Helper()
	cfg, err := e.Render(configTemplate)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(e.Dir, fmt.Sprintf("config-%d.yaml", time.Now().UnixNano()))
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	c := e.StartArgs(t, "--config", path)
	c.ConfigPath = path
	return c
}

// StartArgs starts the binary with args in the Env's directory (where relative paths of a config
// resolve) and waits until the health_check extension on Env.Health answers 200; args must make
// the collector serve health there, e.g. with
// --set=extensions::health_check::endpoint=127.0.0.1:PORT.
func (e *Env) StartArgs(t testing.TB, args ...string) *Collector {
	t.Helper()
	c := &Collector{Env: e, logs: &syncBuffer{}, exited: make(chan struct{})}
	c.cmd = exec.Command(BinaryPath(t), args...)
	c.cmd.Dir = e.Dir
	c.cmd.Stdout = c.logs
	c.cmd.Stderr = c.logs
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start collector: %v", err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("collector %v logs:\n%s", args, c.Logs())
		}
		c.kill()
	})
	if err := c.waitHealthy(); err != nil {
		t.Fatalf("collector did not become healthy: %v\nlogs:\n%s", err, c.Logs())
	}
	return c
}

// Render executes configTemplate against the Env.
func (e *Env) Render(configTemplate string) (string, error) {
	tmpl, err := template.New("config").Option("missingkey=error").Parse(configTemplate)
	if err != nil {
		return "", fmt.Errorf("parse config template: %w", err)
	}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, e); err != nil {
		return "", fmt.Errorf("render config template: %w", err)
	}
	return out.String(), nil
}

func (c *Collector) waitHealthy() error {
	url := fmt.Sprintf("http://127.0.0.1:%d/", c.Env.Health)
	deadline := time.Now().Add(startTimeout)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-c.exited:
			return fmt.Errorf("process exited: %v", c.err)
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("no 200 from %s within %s", url, startTimeout)
}

// Logs returns everything the process wrote so far.
func (c *Collector) Logs() string { return c.logs.String() }

// Stop sends SIGTERM and fails the test unless the process exits cleanly within stopTimeout.
func (c *Collector) Stop(t testing.TB) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-c.exited:
		if c.err != nil {
			t.Fatalf("collector exited with %v after SIGTERM\nlogs:\n%s", c.err, c.Logs())
		}
	case <-time.After(stopTimeout):
		c.kill()
		t.Fatalf("collector still running %s after SIGTERM\nlogs:\n%s", stopTimeout, c.Logs())
	}
}

// Kill stops the process with SIGKILL, as a crash would, and waits for it to be gone.
func (c *Collector) Kill(t testing.TB) {
	t.Helper()
	c.kill()
}

func (c *Collector) kill() {
	select {
	case <-c.exited:
		return
	default:
	}
	_ = c.cmd.Process.Kill()
	<-c.exited
}

// Run runs the binary with args to completion and returns its combined output and exit error.
func Run(t testing.TB, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, BinaryPath(t), args...).CombinedOutput()
	return string(out), err
}

// BinaryPath is $OLLYSTACK_BINARY, or _build/otelcol-ollystack at the repository root. When it is
// missing the test is skipped on a developer machine and fails in CI.
func BinaryPath(t testing.TB) string {
	t.Helper()
	return requireFile(t, "OLLYSTACK_BINARY", filepath.Join(RepoRoot(), "_build", "otelcol-ollystack"), "make build")
}

// RepoRoot is the repository's root directory, found from this source file.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

func requireFile(t testing.TB, envVar, fallback, makeTarget string) string {
	t.Helper()
	path := os.Getenv(envVar)
	if path == "" {
		path = fallback
	}
	if _, err := os.Stat(path); err != nil {
		msg := fmt.Sprintf("%s not found (%v): run `%s` or set %s", path, err, makeTarget, envVar)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// syncBuffer is a bytes.Buffer safe for the process's writers and the test's readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
