#!/usr/bin/env bash
# Fails when any OpenTelemetry Collector core or contrib module drifts from the pinned pair.
# OCB refuses mismatched minors, and mixed versions build binaries nobody tested.
# Usage: check-versions.sh BUILDER_MANIFEST MODULE_DIR...
set -euo pipefail

CORE_BETA=v0.161.0    # go.opentelemetry.io/collector/... v0.x modules
CORE_STABLE=v1.67.0   # go.opentelemetry.io/collector/... v1.x modules
CONTRIB=v0.161.0      # github.com/open-telemetry/opentelemetry-collector-contrib/...

# Reads "path version" lines and prints the ones that drift.
drift() {
	awk -v beta="$CORE_BETA" -v stable="$CORE_STABLE" -v contrib="$CONTRIB" '
		$1 ~ /^go\.opentelemetry\.io\/collector(\/|$)/ {
			want = ($2 ~ /^v0\./) ? beta : stable
			if ($2 != want) print "  " $1 " " $2 " (want " want ")"
		}
		$1 ~ /^github\.com\/open-telemetry\/opentelemetry-collector-contrib\// {
			if ($2 != contrib) print "  " $1 " " $2 " (want " contrib ")"
		}'
}

status=0
manifest=$1
shift

bad=$(sed -n 's/^[[:space:]]*-\{0,1\}[[:space:]]*gomod:[[:space:]]*//p' "$manifest" | drift)
if [ -n "$bad" ]; then
	echo "$manifest:"
	echo "$bad"
	status=1
fi

for dir in "$@"; do
	# go.mod lists every module its packages build with (the pruned module graph of Go >= 1.17),
	# indirect ones included, so reading it needs no network. Replace lines are skipped.
	bad=$(sed -n -e '/=>/d' -e 's/^[[:space:]]*\(require[[:space:]]\{1,\}\)\{0,1\}\([^[:space:](]\{1,\}\)[[:space:]]\{1,\}\(v[^[:space:]]*\).*/\2 \3/p' "$dir/go.mod" | drift)
	if [ -n "$bad" ]; then
		echo "$dir/go.mod:"
		echo "$bad"
		status=1
	fi
done

if [ $status -ne 0 ]; then
	echo "check-versions: pin core to $CORE_BETA/$CORE_STABLE and contrib to $CONTRIB" >&2
else
	echo "check-versions: all collector modules at $CORE_BETA/$CORE_STABLE, contrib $CONTRIB"
fi
exit $status
