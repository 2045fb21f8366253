#!/bin/sh
# Speed of `mapsnap trend` on a series of 100 snapshots of a process with
# about 2,000 regions, many of them changing (tests/helpers/leaker.c with
# 2000 extra one-page regions it touches and drops at random), captured
# with `mapsnap capture --every`. Run by tests/bench.sh (make bench) or
# alone: tests/bench-trend.sh [MAPSNAP] [BUILD].
# Environment: TREND_SNAPSHOTS (default 100), TREND_MAPS (default 2000),
# RUNS (default 7).
# Target (issue 6): the whole trend (loading, matching, judging, report)
# in under 2x the time to load the snapshots. Measured two ways: inside
# one run (`trend --timing` splits load from the rest), and against
# `mapsnap convert --to json` of the same file (load plus rewriting it,
# so that ratio flatters trend a little). Verdicts are printed, never fatal.
set -u
mapsnap=${1:-${MAPSNAP:-./mapsnap}}
build=${2:-${BUILD:-build}}
count=${TREND_SNAPSHOTS:-100}
maps=${TREND_MAPS:-2000}
helper="$build/helpers/leaker"
here=$(dirname "$0")

if [ ! -x "$helper" ] || [ ! -x "$mapsnap" ]; then
	echo "bench-trend: build first (need $mapsnap and $helper)" >&2
	exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-trend.XXXXXX") || exit 2
BENCH_TMP=$work
. "$here/bench-lib.sh"

start_helper "$build" leaker "$maps"
regions=$(wc -l <"/proc/$pid/maps")

series="$work/series.json"
"$mapsnap" capture "$pid" --every 50ms --count "$count" -o "$series" >/dev/null ||
	exit 2
bytes=$(wc -c <"$series")
echo "trend: $count snapshots of pid $pid, $regions mappings, $bytes bytes of JSON"

echo "inside one run (trend --timing: load vs match, judge and report)"
echo "(target: the whole trend < 2.0x its load time)"
: >"$work/split"
i=0
while [ $i -lt "$RUNS" ]; do
	"$mapsnap" trend --timing "$series" 2>&1 >/dev/null |
		sed -n 's/.*load \([0-9.]*\) ms.*judge \([0-9.]*\) ms, report \([0-9.]*\) ms.*/\1 \2 \3/p' \
		>>"$work/split"
	i=$((i + 1))
done
awk '{ print ($1 + $2 + $3) / $1 }' "$work/split" | median >"$work/ratio"
load=$(awk '{ print $1 }' "$work/split" | median)
rest=$(awk '{ print $2 + $3 }' "$work/split" | median)
ratio=$(cat "$work/ratio")
printf '  load median %8.1f ms, match+judge+report median %8.1f ms\n' "$load" "$rest"
printf '  ratio whole trend / load: %s (median of %d runs)\n' "$ratio" "$RUNS"
verdict "$ratio" 2.0 "trend/load"

echo "against convert --to json of the same file (load + rewrite)"
compare "mapsnap trend" "$mapsnap trend $series" \
	"mapsnap convert --to json" "$mapsnap convert --to json $series"
verdict "$LAST_RATIO" 2.0 "trend/convert"

peak=$(peak_kib "$mapsnap" trend "$series")
echo "  peak RSS of trend: $peak KiB ($bytes bytes of JSON in)"
