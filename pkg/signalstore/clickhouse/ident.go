package clickhouse

import (
	"fmt"
	"regexp"
	"strings"
)

// Database, table and cluster names are the only configuration spliced into
// SQL text (ClickHouse cannot bind identifiers). They must match a strict
// pattern and are always written back-quoted, so a name can neither end the
// identifier nor smuggle in a statement.
var identifierPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// clusterPattern also allows the '-' and '.' that cluster names in
// remote_servers commonly use.
var clusterPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,127}$`)

// attributeNamePattern bounds the correlation attribute name, which is
// written into materialized view definitions as a string literal (DDL has
// no parameters): dotted OpenTelemetry attribute names, no quotes or
// backslashes.
var attributeNamePattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,127}$`)

func validateIdentifier(what, name string) error {
	if !identifierPattern.MatchString(name) {
		return fmt.Errorf("%s %q: want letters, digits and _ (at most 128, not starting with a digit)", what, name)
	}
	return nil
}

// quoteIdent back-quotes a validated identifier. The replacement is a second
// line of defence; validated names contain no back-quote.
func quoteIdent(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// qualified is `database`.`table`.
func qualified(database, table string) string {
	return quoteIdent(database) + "." + quoteIdent(table)
}

// stringLiteral quotes a validated constant (the correlation attribute name)
// for DDL, escaping as ClickHouse string literals require.
func stringLiteral(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
