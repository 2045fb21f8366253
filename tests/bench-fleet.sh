#!/bin/sh
# Fleet-scale costs (issue 17), each against a baseline measured in the
# same run with the public tools of bench-lib.sh (interleaved runs,
# medians, never fatal):
#   convert --to ndjson of a 60,000-region snapshot vs convert --to json
#     (goal <= 1.5x): the rows carry every column, kind and key
# Run by tests/bench.sh (make bench) or alone:
#   tests/bench-fleet.sh [MAPSNAP] [BUILD]
# Environment: FLEET_MAPS (default 60000), RUNS (default 7).
set -u
mapsnap=${1:-${MAPSNAP:-./mapsnap}}
build=${2:-${BUILD:-build}}
maps=${FLEET_MAPS:-60000}
here=$(dirname "$0")

if [ ! -x "$build/helpers/manymaps" ] || [ ! -x "$mapsnap" ]; then
	echo "bench-fleet: build first (need $mapsnap and $build/helpers)" >&2
	exit 2
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-fleet.XXXXXX") || exit 2
BENCH_TMP=$work
. "$here/bench-lib.sh"

start_helper "$build" manymaps "$maps"
snap="$work/many.json"
"$mapsnap" capture "$pid" -o "$snap" >/dev/null || exit 2
stop_helper
regions=$(grep -c '^{"start"' "$snap")
echo "convert --to ndjson: a snapshot of $regions regions ($(wc -c <"$snap") bytes)"
"$mapsnap" convert --to ndjson "$snap" >"$work/rows.ndjson"
echo "  $(wc -l <"$work/rows.ndjson") rows, $(wc -c <"$work/rows.ndjson") bytes"
compare "convert --to ndjson" "$mapsnap convert --to ndjson $snap" \
	"convert --to json" "$mapsnap convert --to json $snap"
verdict "$LAST_RATIO" 1.5 "ndjson/json"
exit 0
