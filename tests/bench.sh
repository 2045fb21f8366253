#!/bin/sh
# make bench: speed and memory of mapsnap against baselines measured in
# the same run. Usage: tests/bench.sh MAPSNAP BUILD
set -e
MAPSNAP=${1:-./mapsnap}
BUILD=${2:-build}
export MAPSNAP BUILD
BENCH_TMP=$(mktemp -d)
export BENCH_TMP
. "$(dirname "$0")/bench-lib.sh"
MAPS=${MAPS:-60000}

start_helper "$BUILD" manymaps "$MAPS" 65536
PID=$pid
export PID

regions=$(wc -l <"/proc/$PID/maps")
smaps_bytes=$(wc -c <"/proc/$PID/smaps")
echo "workload: pid $PID, $regions mappings, smaps text $smaps_bytes bytes, 64 MiB touched"
echo
echo "capture, build-ids included (target: <= 1.3x the wall time of cat, peak RSS < 16 MiB)"
compare "mapsnap capture" "$MAPSNAP capture $PID -o $BENCH_TMP/snap.json --force" \
	"cat smaps" "cat /proc/$PID/smaps"
verdict "$LAST_RATIO" 1.3 "capture/cat"
peak=$(peak_kib "$MAPSNAP" capture "$PID" -o "$BENCH_TMP/snap.json" --force)
echo "  peak RSS of capture: $peak KiB ($(wc -c <"$BENCH_TMP/snap.json") bytes of JSON written)"
awk -v p="$peak" 'BEGIN { printf "  target peak RSS < 16384 KiB: %s\n", (p < 16384 ? "met" : "NOT met") }'

for extra in "$(dirname "$0")"/bench-*.sh; do
	case "$extra" in */bench-lib.sh) continue ;; esac
	echo
	sh "$extra"
done
