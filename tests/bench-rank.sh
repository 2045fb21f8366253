#!/bin/sh
# Speed of `mapsnap rank` over every process on this machine against
# smem, the tool it replaces (Debian's smem: Python, reads every smaps).
# Run by tests/bench.sh (make bench: its 60,000-mapping workload is one
# of the processes) or alone: tests/bench-rank.sh [MAPSNAP].
# Target (issue 19): rank of every process in <= 0.2x smem's time. Two
# ways of reading: the default (full smaps, kinds per process) and
# --rollup (smaps_rollup only: totals). Verdicts are printed, never fatal.
set -u
mapsnap=${1:-${MAPSNAP:-./mapsnap}}
here=$(dirname "$0")

if ! command -v smem >/dev/null 2>&1; then
	echo "bench-rank: smem is not installed (sh tests/deps.sh)" >&2
	exit 2
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-rank.XXXXXX") || exit 2
BENCH_TMP=$work
. "$here/bench-lib.sh"
trap 'rm -rf "$work"' EXIT

echo "rank of every process ($(ls -d /proc/[0-9]* 2>/dev/null | wc -l) in /proc) against smem," \
	"target: <= 0.2x"
compare "mapsnap rank" "$mapsnap rank" "smem" "smem"
verdict "$LAST_RATIO" 0.2 "rank/smem"
compare "mapsnap rank --rollup" "$mapsnap rank --rollup" "smem" "smem"
verdict "$LAST_RATIO" 0.2 "rank --rollup/smem"
compare "mapsnap rank --libs" "$mapsnap rank --libs" "smem -m" "smem -m"
verdict "$LAST_RATIO" 0.2 "rank --libs/smem -m"
