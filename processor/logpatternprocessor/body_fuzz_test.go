package logpatternprocessor

import (
	"context"
	"testing"
	"unicode/utf8"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/ollystack/ollystack/processor/logpatternprocessor/internal/metadata"
)

// FuzzProcessBody feeds any body, as a string and as a map field, through the
// processor: it must never panic, and templates must be valid UTF-8 no longer
// than max_body_bytes allows.
func FuzzProcessBody(f *testing.F) {
	for _, seed := range []string{"", " ", "user 42 logged in", "\xff\xfe", "é€😀", `{"msg":"x"}`, "a\x00b", "<*> <*>"} {
		f.Add(seed)
	}
	cfg := defaultConfig()
	cfg.MaxBodyBytes = 64
	cfg.NewTemplate.Warmup = 0
	set := processortest.NewNopSettings(metadata.Type)
	p, err := newLogPatternProcessor(set.TelemetrySettings, set.ID, cfg)
	if err != nil {
		f.Fatal(err)
	}
	if err := p.start(context.Background(), componenttest.NewNopHost()); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = p.shutdown(context.Background()) })
	f.Fuzz(func(t *testing.T, body string) {
		ld := newLogs("fuzz", body)
		rl := ld.ResourceLogs().At(0)
		rl.ScopeLogs().At(0).LogRecords().AppendEmpty().Body().SetEmptyMap().PutStr("message", body)
		if _, err := p.processLogs(context.Background(), ld); err != nil {
			t.Fatal(err)
		}
		records := rl.ScopeLogs().At(0).LogRecords()
		for i := 0; i < records.Len(); i++ {
			if v, ok := records.At(i).Attributes().Get("log.record.template"); ok {
				if !utf8.ValidString(v.Str()) {
					t.Fatalf("template %q is not valid UTF-8", v.Str())
				}
			}
		}
	})
}
