#!/bin/sh
# Speed and memory of `mapsnap diff` on two snapshots of a process with
# many mappings (two captures of one manymaps workload), beside python3
# merely parsing the same two JSON files. Run by tests/bench.sh (make
# bench) or alone: tests/bench-diff.sh [MAPSNAP] [BUILD].
# Environment: DIFF_MAPS (mappings, default 60000), RUNS (default 7).
# Targets (issue 4): the whole diff (both loads, matching, JSON report) in
# no more wall time than the python3 parse; peak RSS under twice the
# two files' size. Verdicts are printed, never fatal.
set -u
mapsnap=${1:-${MAPSNAP:-./mapsnap}}
build=${2:-${BUILD:-build}}
maps=${DIFF_MAPS:-60000}
helper="$build/helpers/manymaps"
here=$(dirname "$0")

if [ ! -x "$helper" ] || [ ! -x "$mapsnap" ]; then
	echo "bench-diff: build first (need $mapsnap and $helper)" >&2
	exit 2
fi
if ! command -v python3 >/dev/null 2>&1; then
	echo "bench-diff: python3 not found: no baseline to compare with" >&2
	exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-diff.XXXXXX") || exit 2
BENCH_TMP=$work
. "$here/bench-lib.sh"

start_helper "$build" manymaps "$maps" 16384

# (bench-lib.sh's compare uses the names a and b itself)
snap_a="$work/a.json"
snap_b="$work/b.json"
"$mapsnap" capture "$pid" -o "$snap_a" --force >/dev/null || exit 2
"$mapsnap" capture "$pid" -o "$snap_b" --force >/dev/null || exit 2
size_a=$(wc -c <"$snap_a")
size_b=$(wc -c <"$snap_b")
regions=$(wc -l <"/proc/$pid/maps")
echo "diff: two snapshots of pid $pid, $regions mappings, $size_a + $size_b bytes of JSON"

py="python3 -c 'import json,sys; json.load(open(sys.argv[1])); json.load(open(sys.argv[2]))' $snap_a $snap_b"
echo "same process (matched by address), JSON report"
echo "(target: <= 1.0x the wall time of python3 json.load of both files)"
compare "mapsnap diff --format json" "$mapsnap diff --format json $snap_a $snap_b" \
	"python3 json.load x2" "$py"
verdict "$LAST_RATIO" 1.0 "diff/python3"

echo "forced identity matching (as for two processes)"
compare "mapsnap diff --match identity" \
	"$mapsnap diff --format json --match identity $snap_a $snap_b" \
	"python3 json.load x2" "$py"
verdict "$LAST_RATIO" 1.0 "diff-identity/python3"

peak=$(peak_kib "$mapsnap" diff --format json "$snap_a" "$snap_b")
limit=$(( (size_a + size_b) * 2 / 1024 ))
echo "  peak RSS of diff: $peak KiB (target < 2x the files: $limit KiB):" \
	"$(awk -v p="$peak" -v l="$limit" 'BEGIN { print (p < l ? "met" : "NOT met") }')"
py_peak=$(peak_kib python3 -c 'import json,sys; json.load(open(sys.argv[1])); json.load(open(sys.argv[2]))' "$snap_a" "$snap_b")
echo "  peak RSS of the python3 parse, for scale: $py_peak KiB"
