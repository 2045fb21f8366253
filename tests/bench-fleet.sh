#!/bin/sh
# Fleet-scale costs (issue 17), each against a baseline measured in the
# same run with the public tools of bench-lib.sh (interleaved runs,
# medians, never fatal):
#   capture --all -o FILE vs cat /proc/[0-9]*/smaps > /dev/null (goal
#     <= 1.2x): every process of this machine, as it is when run
#   convert --to ndjson of a 60,000-region snapshot vs convert --to json
#     (goal <= 1.5x): the rows carry every column, kind and key
#   capture --every --on-change: 20 ticks reading only smaps_rollup (two
#     full snapshots, the first and the last) vs 20 full snapshots, on
#     the same 60,000-region process; and the cost of one tick of each
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

echo "capture --all: $(ls -d /proc/[0-9]* | wc -l) processes (load average" \
     "$(cut -d' ' -f1 /proc/loadavg), $(nproc) CPUs)"
compare "capture --all -o FILE" "$mapsnap capture --all -o $work/all.json --force" \
	"cat /proc/[0-9]*/smaps" "cat /proc/[0-9]*/smaps"
verdict "$LAST_RATIO" 1.2 "capture --all/cat"
compare "capture --all --no-build-ids" \
	"$mapsnap capture --all --no-build-ids -o $work/all.json --force" \
	"cat /proc/[0-9]*/smaps" "cat /proc/[0-9]*/smaps"
verdict "$LAST_RATIO" 1.2 "capture --all --no-build-ids/cat"
echo

start_helper "$build" manymaps "$maps"
snap="$work/many.json"
"$mapsnap" capture "$pid" -o "$snap" >/dev/null || exit 2
ticks=20
echo "capture --every 1ms --count $ticks of a $maps-region process"
compare "--on-change 1G (2 full)" \
	"$mapsnap capture $pid --every 1ms --count $ticks --on-change 1G -o $work/oc.json --force" \
	"every tick full" \
	"$mapsnap capture $pid --every 1ms --count $ticks -o $work/full.json --force"
oc_ratio=$LAST_RATIO
single=$(wall_ms "$mapsnap" capture "$pid" -o "$work/one.json" --force)
awk -v r="$oc_ratio" -v n="$ticks" 'BEGIN {
	# on = (2 + (n - 2) q) f and full = n f, so q = (r n - 2) / (n - 2)
	q = (r * n - 2) / (n - 2); if (q < 0) q = 0
	printf "  one quiet tick costs %.3f of a full capture (%.1f%%)\n", q, q * 100 }'
echo "  (a full capture alone: $(awk -v u="$single" 'BEGIN { printf "%.1f", u / 1000 }') ms)"
stop_helper
echo
regions=$(grep -c '^{"start"' "$snap")
echo "convert --to ndjson: a snapshot of $regions regions ($(wc -c <"$snap") bytes)"
"$mapsnap" convert --to ndjson "$snap" >"$work/rows.ndjson"
echo "  $(wc -l <"$work/rows.ndjson") rows, $(wc -c <"$work/rows.ndjson") bytes"
compare "convert --to ndjson" "$mapsnap convert --to ndjson $snap" \
	"convert --to json" "$mapsnap convert --to json $snap"
verdict "$LAST_RATIO" 1.5 "ndjson/json"
exit 0
