#!/bin/sh
# Speed and memory of `mapsnap report` on a snapshot of a process with many
# mappings (manymaps), beside `mapsnap convert --to json` of the same
# snapshot (the same load, and a write of about the same size); then, when
# Chromium is installed, how long the page takes to read and draw its
# data, beside the browser's own JSON.parse of that data (the page records
# both). Run by tests/bench.sh (make bench) or alone:
# tests/bench-report.sh [MAPSNAP] [BUILD].
# Environment: REPORT_MAPS (mappings, default 60000), RUNS (default 7).
# Targets (issue 7): writing the page <= 1.5x the convert; peak RSS under
# four times the snapshot's size; drawing 60,000 regions <= 5x parsing
# their data (the page does not freeze). Verdicts are printed, never fatal.
set -u
mapsnap=${1:-${MAPSNAP:-./mapsnap}}
build=${2:-${BUILD:-build}}
maps=${REPORT_MAPS:-60000}
helper="$build/helpers/manymaps"
here=$(dirname "$0")

if [ ! -x "$helper" ] || [ ! -x "$mapsnap" ]; then
	echo "bench-report: build first (need $mapsnap and $helper)" >&2
	exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-report.XXXXXX") || exit 2
BENCH_TMP=$work
. "$here/bench-lib.sh"

start_helper "$build" manymaps "$maps" 16384
"$mapsnap" capture "$pid" -o "$work/snap.json" >/dev/null || exit 2
stop_helper # the snapshot is all the rest needs
snap_bytes=$(wc -c <"$work/snap.json")

echo "mapsnap report: a snapshot of $maps mappings, $snap_bytes bytes of JSON"
echo "writing the page (target: <= 1.5x convert --to json of the same snapshot)"
compare "mapsnap report" "$mapsnap report -f -o $work/page.html $work/snap.json" \
	"mapsnap convert --to json" "$mapsnap convert --to json -o - $work/snap.json"
verdict "$LAST_RATIO" 1.5 "report/convert"
peak=$(peak_kib "$mapsnap" report -f -o "$work/page.html" "$work/snap.json")
echo "  peak RSS of report: $peak KiB; the page is $(wc -c <"$work/page.html") bytes"
awk -v p="$peak" -v s="$snap_bytes" 'BEGIN {
	printf "  target peak RSS < 4x the snapshot (%d KiB): %s\n", 4 * s / 1024,
	       (p * 1024 < 4 * s ? "met" : "NOT met") }'

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
	echo "drawing the page: chromium not installed, skipped"
	exit 0
fi
echo "drawing the page in headless Chromium (target: parse + draw <= 5x the parse alone)"
: >"$work/draws"
i=0
while [ $i -lt "$RUNS" ]; do
	"$browser" --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--disable-quic --user-data-dir="$work/profile-$i" \
		--dump-dom "file://$work/page.html" 2>/dev/null |
		sed -n 's/.*data-parse-ms="\([0-9.]*\)" data-draw-ms="\([0-9.]*\)".*/\1 \2/p' \
			>>"$work/draws"
	i=$((i + 1))
done
if [ ! -s "$work/draws" ]; then
	echo "  the page did not record its timings" >&2
	exit 2
fi
parse=$(awk '{ print $1 }' "$work/draws" | median)
draw=$(awk '{ print $2 }' "$work/draws" | median)
ratio=$(awk '{ printf "%.4f\n", $2 / ($1 > 0 ? $1 : 1) }' "$work/draws" | median)
printf '  JSON.parse of the data     median %8.1f ms\n' "$parse"
printf '  parse + draw of the page   median %8.1f ms\n' "$draw"
printf '  ratio draw / parse: %s (median of %d runs)\n' "$ratio" "$RUNS"
verdict "$ratio" 5 "draw/parse"
