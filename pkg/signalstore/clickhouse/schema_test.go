package clickhouse

import (
	"strings"
	"testing"
	"time"
)

func renderSchema(stmts []ddl) string {
	var sb strings.Builder
	for _, d := range stmts {
		sb.WriteString("-- " + d.name)
		if d.source != "" {
			sb.WriteString(" (reads " + d.source + ")")
		}
		sb.WriteString("\n" + d.sql + ";\n\n")
	}
	return sb.String()
}

func TestGoldenSchema(t *testing.T) {
	single := NewDefaultConfig()
	cluster := NewDefaultConfig()
	cluster.Database = "otel"
	cluster.ClusterName = "ollystack-prod"
	cluster.Replicated = true
	cluster.TTL = 72 * time.Hour
	cluster.CorrelationAttribute = "request_id"
	sharded := NewDefaultConfig()
	sharded.ClusterName = "sharded"

	for _, tc := range []struct {
		name, wantCluster string
		cfg               *Config
	}{
		{"schema_single", "", single},
		{"schema_cluster_replicated", "ON CLUSTER `ollystack-prod`", cluster},
		{"schema_cluster_not_replicated", "ON CLUSTER `sharded`", sharded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stmts := newSchemaBuilder(tc.cfg).statements()
			checkGolden(t, tc.name, renderSchema(stmts))
			for _, d := range stmts {
				if !strings.Contains(d.sql, "IF NOT EXISTS") {
					t.Errorf("%s is not idempotent:\n%s", d.name, d.sql)
				}
				if tc.wantCluster != "" && !strings.Contains(d.sql, tc.wantCluster) {
					t.Errorf("%s lacks %s", d.name, tc.wantCluster)
				}
				if tc.wantCluster == "" && strings.Contains(d.sql, "ON CLUSTER") {
					t.Errorf("%s has ON CLUSTER without cluster_name", d.name)
				}
				isReplicated := strings.Contains(d.sql, "ENGINE = Replicated")
				if isTable := strings.HasPrefix(d.sql, "CREATE TABLE"); isTable && isReplicated != tc.cfg.Replicated {
					t.Errorf("%s: replicated engine %v, want %v", d.name, isReplicated, tc.cfg.Replicated)
				}
				if tc.cfg.TTL > 0 && strings.HasPrefix(d.sql, "CREATE TABLE") && !strings.Contains(d.sql, "TTL ") {
					t.Errorf("%s lacks the TTL", d.name)
				}
			}
		})
	}
}

// TestSchemaViewsNameTheirSource checks that every view is deferred on the
// table it reads, and that it reads the configured (quoted) table.
func TestSchemaViewsNameTheirSource(t *testing.T) {
	cfg := NewDefaultConfig()
	cfg.TracesTableName, cfg.LogsTableName = "spans_v2", "logs_v2"
	views := 0
	for _, d := range newSchemaBuilder(cfg).statements() {
		if d.source == "" {
			continue
		}
		views++
		if d.source != "spans_v2" && d.source != "logs_v2" {
			t.Errorf("%s reads %q", d.name, d.source)
		}
		if !strings.Contains(d.sql, "FROM `default`.`"+d.source+"`") {
			t.Errorf("%s does not select from its source:\n%s", d.name, d.sql)
		}
	}
	if views != 5 {
		t.Errorf("%d views, want 5", views)
	}
}
