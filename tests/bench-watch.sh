#!/bin/sh
# Speed of `mapsnap watch`: each refresh is one capture (smaps read, its
# identity, matched against the last one, the frame drawn), against `cat
# /proc/PID/smaps` once per refresh. Run by tests/bench.sh (make bench:
# the 60,000-mapping workload it starts) or alone: tests/bench-watch.sh
# [MAPSNAP] [BUILD] (then a 60,000-mapping tests/helpers/manymaps).
# Environment: WATCH_REFRESHES (default 5), MAPS (default 60000), RUNS.
# Target (issue 19): a refresh within 1.3x the time of cat. The watch
# waits --interval 50ms (its minimum) between refreshes; a refresh of
# this workload takes longer, so no time is spent waiting. Verdicts are
# printed, never fatal.
set -u
mapsnap=${1:-${MAPSNAP:-./mapsnap}}
build=${2:-${BUILD:-build}}
refreshes=${WATCH_REFRESHES:-5}
here=$(dirname "$0")

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-watch.XXXXXX") || exit 2
BENCH_TMP=$work
. "$here/bench-lib.sh"
if [ -z "${PID:-}" ]; then
	start_helper "$build" manymaps "${MAPS:-60000}" 65536
	PID=$pid
else
	trap 'rm -rf "$work"' EXIT
fi

echo "watch: $refreshes refreshes of pid $PID ($(wc -l <"/proc/$PID/maps") mappings)," \
	"target: <= 1.3x cat per refresh"
compare "mapsnap watch --batch" \
	"$mapsnap watch $PID --batch --count $refreshes --interval 50ms" \
	"cat smaps x $refreshes" \
	"i=0; while [ \$i -lt $refreshes ]; do cat /proc/$PID/smaps; i=\$((i + 1)); done"
verdict "$LAST_RATIO" 1.3 "watch/cat"
compare "mapsnap watch --batch" \
	"$mapsnap watch $PID --batch --count $refreshes --interval 50ms" \
	"mapsnap capture x $refreshes" \
	"i=0; while [ \$i -lt $refreshes ]; do $mapsnap capture $PID -o $work/snap.json --force; i=\$((i + 1)); done"
echo "  (a refresh is one capture: the ratio to capture says what matching and drawing add)"
