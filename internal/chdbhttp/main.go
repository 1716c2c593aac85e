// Command chdbhttp serves ClickHouse's HTTP interface, and optionally its
// native protocol, over the ClickHouse engine embedded in chDB
// (libchdb.so), so that the ClickHouse backend's
// conformance suite runs real ClickHouse SQL where no clickhouse-server can
// be installed. It is a test harness, not a server to run in production: one
// statement at a time, no users, no sessions.
//
//	chdbhttp -lib .tools/chdb/libchdb.so -listen 127.0.0.1:0 -listen-native 127.0.0.1:0 -addr-file /tmp/addr
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	lib := flag.String("lib", "", "path of libchdb.so (required)")
	listen := flag.String("listen", "127.0.0.1:8123", "address of the HTTP interface; port 0 picks a free one")
	listenNative := flag.String("listen-native", "", "address of the native protocol (e.g. 127.0.0.1:9000; default: off)")
	addrFile := flag.String("addr-file", "", "once listening, write the endpoints (http://host:port, then tcp://host:port) to this file, one a line")
	dataDir := flag.String("data", "", "directory of the engine's data (default: a new temporary directory, removed at exit)")
	flag.Parse()
	if err := run(*lib, *listen, *listenNative, *addrFile, *dataDir); err != nil {
		log.Fatalf("chdbhttp: %v", err)
	}
}

func run(lib, listen, listenNative, addrFile, dataDir string) error {
	if lib == "" {
		return errors.New("-lib is required")
	}
	if dataDir == "" {
		dir, err := os.MkdirTemp("", "chdbhttp-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		dataDir = dir
	}
	e, err := openEngine(lib, dataDir)
	if err != nil {
		return err
	}
	defer e.close()
	version, err := e.run("SELECT version()", "TabSeparated", nil)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	endpoints := "http://" + ln.Addr().String()
	h := &handler{engine: e, logf: log.Printf}
	errc := make(chan error, 2)
	if listenNative != "" {
		nln, err := net.Listen("tcp", listenNative)
		if err != nil {
			return err
		}
		defer nln.Close()
		endpoints += "\ntcp://" + nln.Addr().String()
		go func() { errc <- h.serveNative(nln) }()
	}
	if addrFile != "" {
		if err := os.WriteFile(addrFile, []byte(endpoints+"\n"), 0o644); err != nil {
			return err
		}
	}
	log.Printf("chdbhttp: ClickHouse %s (chDB) on %s, data in %s", strings.TrimSpace(string(version)),
		strings.ReplaceAll(endpoints, "\n", " and "), dataDir)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
