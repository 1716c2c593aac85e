package testbed

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/ollystack/ollystack/testbed/harness"
)

// logpatternConfig mines log templates with no warm-up, keeps them in file_storage in the test's
// directory and writes the logs to LOGS_FILE (replaced per run, so a restart starts a new file).
const logpatternConfig = `
extensions:
` + healthCheckExtension + `  file_storage:
    directory: {{.Dir}}
` + otlpReceivers + `processors:
  logpattern:
    new_template:
      warmup: 0s
    storage: file_storage
  batch:
    timeout: 200ms
exporters:
  file/logs:
    path: {{.Dir}}/LOGS_FILE
service:
  extensions: [health_check, file_storage]
  pipelines:
    logs:
      receivers: [otlp]
      processors: [logpattern, batch]
      exporters: [file/logs]
`

// minedRecord is what the test reads back of one record.
type minedRecord struct {
	scope, eventName, body, template, id string
}

func readMined(t *testing.T, path string) []minedRecord {
	t.Helper()
	batches, err := harness.ReadLogsFile(path)
	if err != nil {
		return nil
	}
	var out []minedRecord
	for _, ld := range batches {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			sls := ld.ResourceLogs().At(i).ScopeLogs()
			for j := 0; j < sls.Len(); j++ {
				records := sls.At(j).LogRecords()
				for k := 0; k < records.Len(); k++ {
					out = append(out, toMined(sls.At(j).Scope().Name(), records.At(k)))
				}
			}
		}
	}
	return out
}

func toMined(scope string, lr plog.LogRecord) minedRecord {
	tmpl, _ := lr.Attributes().Get("log.record.template")
	id, _ := lr.Attributes().Get("log.record.template.id")
	return minedRecord{scope: scope, eventName: lr.EventName(), body: lr.Body().AsString(), template: tmpl.Str(), id: id.Str()}
}

// sendLogs sends n records with body from service checkout over OTLP gRPC.
func sendLogs(t *testing.T, c *harness.Collector, body string, n int) {
	t.Helper()
	harness.Telemetrygen(t, "logs", "--rate", "0", "--logs", fmt.Sprint(n), "--service", "checkout", "--body", body,
		"--otlp-insecure", "--otlp-endpoint", fmt.Sprintf("127.0.0.1:%d", c.Env.GRPC))
}

// TestLogPatternEndToEnd: records that went through the binary carry their template and its id,
// a new template emits exactly one event, and after a restart through file_storage a line that
// first appears then still joins the template learnt before.
func TestLogPatternEndToEnd(t *testing.T) {
	env := harness.NewEnv(t)
	c := env.Start(t, strings.Replace(logpatternConfig, "LOGS_FILE", "logs-1.json", 1))
	sendLogs(t, c, "payment declined for card visa reason insufficient_funds", 3)
	sendLogs(t, c, "payment declined for card amex reason insufficient_funds", 2)

	const template = "payment declined for card <*> reason insufficient_funds"
	var records, events []minedRecord
	require.Eventually(t, func() bool {
		records, events = nil, nil
		for _, r := range readMined(t, env.Path("logs-1.json")) {
			if r.scope == "ollystack.logpattern" {
				events = append(events, r)
			} else {
				records = append(records, r)
			}
		}
		return len(records) == 5 && len(events) >= 1
	}, 30*time.Second, 100*time.Millisecond, "records %v events %v", records, events)
	id := records[0].id
	require.Len(t, id, 16)
	for _, r := range records {
		assert.Equal(t, id, r.id, "one template: %+v", r)
		if strings.Contains(r.body, "amex") { // visa lines were mined before the template generalised
			assert.Equal(t, template, r.template)
		}
	}
	require.Len(t, events, 1, "one birth")
	assert.Equal(t, "log.template.new", events[0].eventName)
	assert.Equal(t, id, events[0].id)
	c.Stop(t)

	c = env.Start(t, strings.Replace(logpatternConfig, "LOGS_FILE", "logs-2.json", 1))
	sendLogs(t, c, "payment declined for card mastercard reason insufficient_funds", 1)
	var after []minedRecord
	require.Eventually(t, func() bool {
		after = readMined(t, env.Path("logs-2.json"))
		return len(after) >= 1
	}, 30*time.Second, 100*time.Millisecond)
	c.Stop(t)
	require.Len(t, after, 1, "a known template emits no event after the restart: %+v", after)
	assert.Equal(t, id, after[0].id, "restored from file_storage")
	assert.Equal(t, template, after[0].template)
}
