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

fifo="$BENCH_TMP/ctl"
mkfifo "$fifo"
"$BUILD/helpers/manymaps" "$MAPS" 65536 <"$fifo" >"$BENCH_TMP/ready" &
exec 9>"$fifo" # holding the fifo open keeps the workload alive
while ! grep -q ready "$BENCH_TMP/ready" 2>/dev/null; do sleep 0.1; done
PID=$(awk '{print $2}' "$BENCH_TMP/ready")
export PID
cleanup() { exec 9>&-; wait; rm -rf "$BENCH_TMP"; }
trap cleanup EXIT

regions=$(wc -l <"/proc/$PID/maps")
smaps_bytes=$(wc -c <"/proc/$PID/smaps")
echo "workload: pid $PID, $regions mappings, smaps text $smaps_bytes bytes, 64 MiB touched"
echo
echo "capture (target: <= 1.3x the wall time of cat, peak RSS < 16 MiB)"
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
