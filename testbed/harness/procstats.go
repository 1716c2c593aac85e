package harness

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat; 100 on every Linux
// architecture Go supports.
const clockTicks = 100

// ProcessStats samples a process's CPU time and resident memory from /proc, the way the contrib
// testbed watches the collector under load.
type ProcessStats struct {
	pid      int
	start    time.Time
	startCPU time.Duration

	mu     sync.Mutex
	maxRSS int64 // bytes
	stop   chan struct{}
	done   chan struct{}
}

// WatchProcess starts sampling the collector's process every interval until Stop.
func (c *Collector) WatchProcess(interval time.Duration) (*ProcessStats, error) {
	pid := c.cmd.Process.Pid
	cpu, err := cpuTime(pid)
	if err != nil {
		return nil, err
	}
	s := &ProcessStats{pid: pid, start: time.Now(), startCPU: cpu, stop: make(chan struct{}), done: make(chan struct{})}
	go s.loop(interval)
	return s, nil
}

func (s *ProcessStats) loop(interval time.Duration) {
	defer close(s.done)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if rss, err := rssBytes(s.pid); err == nil {
			s.mu.Lock()
			s.maxRSS = max(s.maxRSS, rss)
			s.mu.Unlock()
		}
		select {
		case <-s.stop:
			return
		case <-tick.C:
		}
	}
}

// ProcessSummary is what a load run reports about the collector process.
type ProcessSummary struct {
	Wall       time.Duration
	CPU        time.Duration
	CPUPercent float64 // of one core
	MaxRSSMiB  float64
}

// Stop ends sampling and summarises CPU use and peak memory since WatchProcess.
func (s *ProcessStats) Stop() (ProcessSummary, error) {
	close(s.stop)
	<-s.done
	cpu, err := cpuTime(s.pid)
	if err != nil {
		return ProcessSummary{}, err
	}
	wall := time.Since(s.start)
	used := cpu - s.startCPU
	s.mu.Lock()
	defer s.mu.Unlock()
	return ProcessSummary{
		Wall:       wall,
		CPU:        used,
		CPUPercent: 100 * used.Seconds() / wall.Seconds(),
		MaxRSSMiB:  float64(s.maxRSS) / (1 << 20),
	}, nil
}

// cpuTime reads utime+stime of pid.
func cpuTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may contain spaces; fields after its closing paren are fixed.
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(fields))
	}
	var ticks int64
	for _, f := range fields[11:13] { // utime, stime (fields 14 and 15 of the whole line)
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += v
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// rssBytes reads VmRSS of pid.
func rssBytes(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/%d/status VmRSS: %w", pid, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
}
