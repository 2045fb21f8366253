#!/bin/sh
# make demo: start the bundled demo workload, capture it, change it,
# capture again, and look at the snapshots. Usage: tests/demo.sh MAPSNAP BUILD
set -e
MAPSNAP=${1:-./mapsnap}
BUILD=${2:-build}
OUT="$BUILD/demo"
rm -rf "$OUT"
mkdir -p "$OUT"
fifo="$OUT/ctl"
mkfifo "$fifo"
"$BUILD/helpers/demo" <"$fifo" >"$OUT/replies" &
exec 9>"$fifo"
trap 'exec 9>&-; wait' EXIT
while ! grep -q ready "$OUT/replies" 2>/dev/null; do sleep 0.05; done
PID=$(awk '/ready/ {print $2}' "$OUT/replies")
ask() { echo "$1" >&9; while [ "$(grep -c '^ok' "$OUT/replies")" -lt "$2" ]; do sleep 0.05; done; }

echo "\$ mapsnap capture $PID -o $OUT/before.json"
"$MAPSNAP" capture "$PID" -o "$OUT/before.json"
ask grow 1
ask threads 2
echo "\$ mapsnap capture $PID -o $OUT/after.json"
"$MAPSNAP" capture "$PID" -o "$OUT/after.json"
echo
echo "\$ mapsnap show -x --sort rss --top 5 $OUT/after.json"
"$MAPSNAP" show -x --sort rss --top 5 "$OUT/after.json"
echo
echo "\$ mapsnap diff $OUT/before.json $OUT/after.json"
"$MAPSNAP" diff "$OUT/before.json" "$OUT/after.json"
echo
echo "\$ mapsnap report $OUT/before.json $OUT/after.json -o $OUT/report.html"
"$MAPSNAP" report "$OUT/before.json" "$OUT/after.json" -o "$OUT/report.html"
echo "open file://$(cd "$OUT" && pwd)/report.html in a browser"
