package rca

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// TestNezhaRanking scores RankServices on the Nezha fault-injection dataset
// (github.com/IntelligentDDS/Nezha, FSE 2023): OnlineBoutique and
// TrainTicket, ~100 injected faults (cpu_contention, cpu_consumed,
// network_delay, return, exception) with the injected pod as ground truth.
//
//	NEZHA_DIR=/tmp/nezha go test -run TestNezhaRanking -v ./rca
//
// NEZHA_DIR is a checkout (or extracted archive) of the repository; it needs
// rca_data/<date>/{trace,log}/HH_MM_*.csv with the fault lists, and
// construct_data/<date>/{trace,log}/ for the fault-free phase. Missing files
// (the repository's large files are not always retrievable) are skipped and
// counted.
//
// For each fault: the baseline is the dataset's fault-free minute of the
// same system (construct_data of the same date, else of another date of the
// same system) plus the spans of the fault's own files that started before
// the injection; the window is the spans that started in
// [injection, injection + nezhaWindow). The dataset's traces have no status
// codes, so a span is an error when its pod logged at ERROR level with the
// span's id. Service = pod name without its two replica suffixes.
func TestNezhaRanking(t *testing.T) {
	dir := os.Getenv("NEZHA_DIR")
	if dir == "" {
		t.Skip("NEZHA_DIR not set: set it to a copy of github.com/IntelligentDDS/Nezha to score RankServices on its injected faults")
	}
	faults, err := loadNezhaFaults(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(faults) == 0 {
		t.Fatalf("no fault lists under %s/rca_data", dir)
	}
	ds := &nezhaData{dir: dir, files: make(map[string]nezhaFile), window: nezhaWindow, baseline: "both"}
	if v := os.Getenv("NEZHA_WINDOW"); v != "" {
		if ds.window, err = time.ParseDuration(v); err != nil {
			t.Fatalf("NEZHA_WINDOW: %v", err)
		}
	}
	if v := os.Getenv("NEZHA_BASELINE"); v != "" {
		ds.baseline = v // construct, pre or both
	}
	// NEZHA_TRACES_ONLY=1 drops the logs, and with them the error status.
	ds.tracesOnly = os.Getenv("NEZHA_TRACES_ONLY") != ""
	t.Logf("window %s after the injection, baseline %s, traces only %t", ds.window, ds.baseline, ds.tracesOnly)
	var results []nezhaResult
	skipped := 0
	filter := regexp.MustCompile(os.Getenv("NEZHA_FILTER")) // e.g. "TrainTicket network_delay"
	for _, f := range faults {
		if !filter.MatchString(f.system + " " + f.kind + " " + f.service) {
			continue
		}
		base, window := ds.faultData(t, f)
		if len(window.spans) == 0 {
			skipped++
			t.Logf("%s %-14s %-32s no trace data in the window", f.at.Format("2006-01-02 15:04:05"), f.kind, f.service)
			continue
		}
		baseline := BaselineFromSpans(base.spans, base.logs)
		scores := RankServices(Window{Spans: window.spans, Edges: serviceEdges(window.spans), Logs: window.logs}, baseline, Options{})
		r := nezhaResult{fault: f, rank: pessimisticRank(scores, f.service), services: len(scores)}
		results = append(results, r)
		var top []string
		for _, sc := range scores[:min(3, len(scores))] {
			top = append(top, fmt.Sprintf("%s=%.3f", sc.Service, sc.Score))
		}
		t.Logf("%s %-14s %-32s rank %2d/%2d  spans %6d base %6d logs %5d  top: %s", f.at.Format("2006-01-02 15:04:05"),
			f.kind, f.service, r.rank, r.services, len(window.spans), len(base.spans), len(window.logs), strings.Join(top, " "))
		if os.Getenv("NEZHA_DEBUG") != "" {
			for i, sc := range scores {
				if i < 3 || sc.Service == f.service {
					t.Logf("    %d %+v", i+1, sc)
				}
			}
			t.Logf("    rank of the truth by one component: %s", componentRanks(scores, f.service))
		}
	}
	t.Logf("faults %d, with trace data in the window %d, without %d", len(faults), len(results), skipped)
	t.Logf("%-28s %4s %7s %7s %7s", "group", "n", "top-1", "top-3", "MRR")
	report := func(name string, keep func(nezhaResult) bool) {
		n, top1, top3, rr := 0, 0, 0, 0.0
		for _, r := range results {
			if !keep(r) {
				continue
			}
			n++
			if r.rank == 1 {
				top1++
			}
			if r.rank >= 1 && r.rank <= 3 {
				top3++
			}
			if r.rank > 0 {
				rr += 1 / float64(r.rank)
			}
		}
		if n > 0 {
			t.Logf("%-28s %4d %6.1f%% %6.1f%% %7.3f", name, n, 100*float64(top1)/float64(n), 100*float64(top3)/float64(n), rr/float64(n))
		}
	}
	report("all", func(nezhaResult) bool { return true })
	for _, sys := range []string{"OnlineBoutique", "TrainTicket"} {
		report(sys, func(r nezhaResult) bool { return r.fault.system == sys })
	}
	var kinds []string
	for _, r := range results {
		if !slices.Contains(kinds, r.fault.kind) {
			kinds = append(kinds, r.fault.kind)
		}
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		report(k, func(r nezhaResult) bool { return r.fault.kind == k })
	}
	for _, sys := range []string{"OnlineBoutique", "TrainTicket"} {
		for _, k := range kinds {
			report(sys+" "+k, func(r nezhaResult) bool { return r.fault.system == sys && r.fault.kind == k })
		}
	}
}

// nezhaWindow is how much telemetry after the injection the ranking sees by
// default: the dataset keeps about two minutes after each injection.
// NEZHA_WINDOW (a Go duration) overrides it.
const nezhaWindow = 2 * time.Minute

type nezhaFault struct {
	date    string // rca_data folder
	at      time.Time
	pod     string
	service string
	kind    string
	system  string
}

type nezhaResult struct {
	fault    nezhaFault
	rank     int // 0 when the service is not ranked at all
	services int
}

// pessimisticRank is the 1-based rank of service, counting every service
// with an equal score as ahead of it (a tie is not a hit); 0 when absent.
func pessimisticRank(scores []ServiceScore, service string) int {
	i := slices.IndexFunc(scores, func(s ServiceScore) bool { return s.Service == service })
	if i < 0 {
		return 0
	}
	rank := 0
	for _, s := range scores {
		if s.Score >= scores[i].Score {
			rank++
		}
	}
	return rank
}

// componentRanks ranks the services by each component of the score alone.
func componentRanks(scores []ServiceScore, service string) string {
	components := []struct {
		name string
		of   func(ServiceScore) float64
	}{
		{"errors", func(s ServiceScore) float64 { return s.ErrorExcess }},
		{"latency", func(s ServiceScore) float64 { return float64(s.OwnExcess + s.EdgeExcess) }},
		{"edges", func(s ServiceScore) float64 { return s.OwnEdgeErrors }},
		{"logs", func(s ServiceScore) float64 { return s.LogShift }},
	}
	var out []string
	for _, c := range components {
		var truth float64
		for _, s := range scores {
			if s.Service == service {
				truth = c.of(s)
			}
		}
		rank := 0
		for _, s := range scores {
			if c.of(s) >= truth {
				rank++
			}
		}
		if truth == 0 {
			rank = 0
		}
		out = append(out, fmt.Sprintf("%s=%d", c.name, rank))
	}
	return strings.Join(out, " ")
}

func loadNezhaFaults(dir string) ([]nezhaFault, error) {
	lists, err := filepath.Glob(filepath.Join(dir, "rca_data", "*", "*-fault_list.json"))
	if err != nil {
		return nil, err
	}
	slices.Sort(lists)
	var out []nezhaFault
	for _, path := range lists {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read fault list: %w", err)
		}
		var byHour map[string][]struct {
			InjectTime string `json:"inject_time"`
			InjectPod  string `json:"inject_pod"`
			InjectType string `json:"inject_type"`
		}
		if err := json.Unmarshal(raw, &byHour); err != nil {
			return nil, fmt.Errorf("parse %s: %w", path, err)
		}
		for _, list := range byHour {
			for _, f := range list {
				// inject_time is UTC (it matches inject_timestamp, which
				// is wrong for one fault of 2023-01-29).
				at, err := time.Parse(time.DateTime, f.InjectTime)
				if err != nil {
					return nil, fmt.Errorf("parse %s: %w", path, err)
				}
				svc := nezhaService(f.InjectPod)
				out = append(out, nezhaFault{
					date: filepath.Base(filepath.Dir(path)), at: at, pod: f.InjectPod, service: svc,
					kind: f.InjectType, system: nezhaSystem(svc),
				})
			}
		}
	}
	slices.SortFunc(out, func(a, b nezhaFault) int { return a.at.Compare(b.at) })
	return out, nil
}

// nezhaService strips a Deployment pod's ReplicaSet hash and pod suffix.
func nezhaService(pod string) string {
	parts := strings.Split(pod, "-")
	if len(parts) < 3 {
		return pod
	}
	return strings.Join(parts[:len(parts)-2], "-")
}

func nezhaSystem(service string) string {
	if strings.HasPrefix(service, "ts-") {
		return "TrainTicket"
	}
	return "OnlineBoutique"
}

type nezhaFile struct {
	spans []signalstore.Span
	logs  []signalstore.LogRecord
}

type nezhaData struct {
	dir    string
	window time.Duration
	// baseline is "construct" (the fault-free minute), "pre" (the fault's
	// own files before the injection) or "both".
	baseline   string
	tracesOnly bool
	files      map[string]nezhaFile // by trace file path
	// construct caches the fault-free minute per system.
	construct map[string]nezhaFile
}

// minute reads the trace and log files named HH_MM under root/date (a file
// named HH_MM holds about the minute before HH:MM); absent files give none.
func (d *nezhaData) minute(t *testing.T, root, date, hhmm string) nezhaFile {
	tracePath := filepath.Join(d.dir, root, date, "trace", hhmm+"_trace.csv")
	if f, ok := d.files[tracePath]; ok {
		return f
	}
	var f nezhaFile
	var err error
	if f.spans, err = readNezhaTraces(tracePath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Logf("skip %s: %v", tracePath, err)
	}
	if !d.tracesOnly {
		logPath := filepath.Join(d.dir, root, date, "log", hhmm+"_log.csv")
		if f.logs, err = readNezhaLogs(logPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Logf("skip %s: %v", logPath, err)
		}
	}
	markErrorSpans(f.spans, f.logs)
	d.files[tracePath] = f
	return f
}

// constructData is the fault-free minute of the fault's system: the same
// date's when present, else another date's of the same system.
func (d *nezhaData) constructData(t *testing.T, f nezhaFault) nezhaFile {
	if d.construct == nil {
		d.construct = make(map[string]nezhaFile)
	}
	key := f.system + "/" + f.date
	if c, ok := d.construct[key]; ok {
		return c
	}
	load := func(date string) nezhaFile {
		traces, _ := filepath.Glob(filepath.Join(d.dir, "construct_data", date, "trace", "*_trace.csv"))
		var out nezhaFile
		for _, p := range traces {
			m := d.minute(t, "construct_data", date, strings.TrimSuffix(filepath.Base(p), "_trace.csv"))
			out.spans = append(out.spans, m.spans...)
			out.logs = append(out.logs, m.logs...)
		}
		return out
	}
	c := load(f.date)
	if len(c.spans) == 0 {
		dates, _ := filepath.Glob(filepath.Join(d.dir, "construct_data", "*"))
		for _, other := range dates {
			other = filepath.Base(other)
			if other == f.date {
				continue
			}
			if o := load(other); len(o.spans) > 0 && nezhaSystem(o.spans[0].ServiceName) == f.system {
				c = o
				break
			}
		}
	}
	d.construct[key] = c
	return c
}

// faultData splits the fault's files into what came before the injection
// (added to the fault-free minute as baseline) and the window after it.
func (d *nezhaData) faultData(t *testing.T, f nezhaFault) (base, window nezhaFile) {
	if d.baseline != "pre" {
		c := d.constructData(t, f)
		base.spans = slices.Clone(c.spans)
		base.logs = slices.Clone(c.logs)
	}
	pre := d.baseline != "construct"
	end := f.at.Add(d.window)
	first := f.at.Truncate(time.Minute)
	for m := first; !m.After(end.Add(time.Minute)); m = m.Add(time.Minute) {
		data := d.minute(t, "rca_data", f.date, m.Format("15_04"))
		for _, s := range data.spans {
			switch {
			case s.Timestamp.Before(f.at):
				if pre {
					base.spans = append(base.spans, s)
				}
			case s.Timestamp.Before(end):
				window.spans = append(window.spans, s)
			}
		}
		for _, l := range data.logs {
			switch {
			case l.Timestamp.Before(f.at):
				if pre {
					base.logs = append(base.logs, l)
				}
			case l.Timestamp.Before(end):
				window.logs = append(window.logs, l)
			}
		}
	}
	return base, window
}

func readNezhaCSV(path string, each func(col map[string]int, rec []string) error) error {
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	r := csv.NewReader(file)
	r.ReuseRecord = true
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	header, err := r.Read()
	if err != nil {
		return fmt.Errorf("read header of %s: %w", path, err)
	}
	col := make(map[string]int, len(header))
	for i, h := range header {
		col[h] = i
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		if len(rec) != len(header) {
			continue
		}
		if err := each(col, rec); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
}

func readNezhaTraces(path string) ([]signalstore.Span, error) {
	var spans []signalstore.Span
	err := readNezhaCSV(path, func(col map[string]int, rec []string) error {
		traceID, err1 := signalstore.ParseTraceID(rec[col["TraceID"]])
		spanID, err2 := signalstore.ParseSpanID(rec[col["SpanID"]])
		start, err3 := strconv.ParseInt(rec[col["StartTimeUnixNano"]], 10, 64)
		end, err4 := strconv.ParseInt(rec[col["EndTimeUnixNano"]], 10, 64)
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			return nil // a malformed row is left out
		}
		var parent signalstore.SpanID
		if p := rec[col["ParentID"]]; p != "root" && p != "" {
			var err error
			if parent, err = signalstore.ParseSpanID(p); err != nil {
				return nil
			}
		}
		pod := rec[col["PodName"]]
		spans = append(spans, signalstore.Span{
			Timestamp: time.Unix(0, start).UTC(), TraceID: traceID, SpanID: spanID, ParentSpanID: parent,
			SpanName: rec[col["OperationName"]], ServiceName: nezhaService(pod),
			ResourceAttributes: map[string]string{"k8s.pod.name": pod},
			Duration:           time.Duration(end - start), StatusCode: signalstore.StatusCodeUnset,
		})
		return nil
	})
	return spans, err
}

// nezhaLevel finds the severity in a log line: a JSON "severity"/"level"
// field (OnlineBoutique), else the first level word (TrainTicket's
// "16:42:22.382 INFO  c.s.Class#12 ...").
var nezhaLevel = regexp.MustCompile(`(?i)(?:"(?:severity|level)"\s*:\s*"|^\S*\s+)(fatal|error|warn(?:ing)?|info|debug|trace)\b`)

func readNezhaLogs(path string) ([]signalstore.LogRecord, error) {
	var logs []signalstore.LogRecord
	err := readNezhaCSV(path, func(col map[string]int, rec []string) error {
		ns, err := strconv.ParseInt(rec[col["TimeUnixNano"]], 10, 64)
		if err != nil {
			return nil
		}
		body := rec[col["Log"]]
		var docker struct {
			Log string `json:"log"`
		}
		if json.Unmarshal([]byte(body), &docker) == nil && docker.Log != "" {
			body = strings.TrimSpace(docker.Log)
		}
		severity := ""
		if m := nezhaLevel.FindStringSubmatch(body); m != nil {
			severity = strings.ToUpper(m[1])
		}
		traceID, _ := signalstore.ParseTraceID(rec[col["TraceID"]])
		spanID, _ := signalstore.ParseSpanID(rec[col["SpanID"]])
		pod := rec[col["PodName"]]
		logs = append(logs, signalstore.LogRecord{
			Timestamp: time.Unix(0, ns).UTC(), TraceID: traceID, SpanID: spanID, SeverityText: severity,
			ServiceName: nezhaService(pod), Body: body, ResourceAttributes: map[string]string{"k8s.pod.name": pod},
		})
		return nil
	})
	return logs, err
}

// markErrorSpans sets status Error on spans that logged at ERROR level (the
// dataset's traces carry no status).
func markErrorSpans(spans []signalstore.Span, logs []signalstore.LogRecord) {
	failed := make(map[spanKey]bool)
	for i := range logs {
		if isErrorLog(&logs[i]) {
			failed[spanKey{logs[i].TraceID, logs[i].SpanID}] = true
		}
	}
	for i := range spans {
		if failed[spanKey{spans[i].TraceID, spans[i].SpanID}] {
			spans[i].StatusCode = signalstore.StatusCodeError
		}
	}
}

// serviceEdges aggregates parent → child span pairs across services, as a
// service-graph connector would: requests, errors (child status) and the
// child's duration quantiles.
func serviceEdges(spans []signalstore.Span) []signalstore.ServiceEdge {
	byID := make(map[spanKey]*signalstore.Span, len(spans))
	for i := range spans {
		byID[spanKey{spans[i].TraceID, spans[i].SpanID}] = &spans[i]
	}
	type acc struct {
		edge      signalstore.ServiceEdge
		durations []int64
		sum       time.Duration
	}
	edges := make(map[[2]string]*acc)
	for i := range spans {
		c := &spans[i]
		p := byID[spanKey{c.TraceID, c.ParentSpanID}]
		if p == nil || p.ServiceName == c.ServiceName {
			continue
		}
		k := [2]string{p.ServiceName, c.ServiceName}
		a := edges[k]
		if a == nil {
			a = &acc{edge: signalstore.ServiceEdge{Caller: k[0], Callee: k[1]}}
			edges[k] = a
		}
		a.edge.RequestCount++
		if c.IsError() {
			a.edge.ErrorCount++
		}
		a.durations = append(a.durations, int64(c.Duration))
		a.sum += c.Duration
	}
	out := make([]signalstore.ServiceEdge, 0, len(edges))
	for _, a := range edges {
		slices.Sort(a.durations)
		a.edge.AvgDuration = a.sum / time.Duration(a.edge.RequestCount)
		a.edge.P50Duration = quantile(a.durations, 0.5)
		a.edge.P95Duration = quantile(a.durations, 0.95)
		a.edge.P99Duration = quantile(a.durations, 0.99)
		out = append(out, a.edge)
	}
	slices.SortFunc(out, func(a, b signalstore.ServiceEdge) int {
		return cmp.Or(cmp.Compare(a.Caller, b.Caller), cmp.Compare(a.Callee, b.Callee))
	})
	return out
}
