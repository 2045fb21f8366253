#!/bin/sh
# Speed of `mapsnap show -XX PID` on a process with many mappings, beside
# `pmap -XX`, `pmap -x` and plain `cat /proc/PID/smaps` in the same run.
# Usage: tests/bench-show.sh [MAPSNAP] [BUILD] (default: $MAPSNAP and
# $BUILD as tests/bench.sh exports them, else ./mapsnap and build).
# Environment: SHOW_MAPS (mappings, default 60000), RUNS (default 9).
# Uses hyperfine when installed, otherwise a round-robin loop timed with
# date +%s%N; prints medians and the ratios against cat and pmap.
set -u
mapsnap=${1:-${MAPSNAP:-./mapsnap}}
build=${2:-${BUILD:-build}}
maps=${SHOW_MAPS:-60000}
runs=${RUNS:-9}
helper="$build/helpers/manymaps"

if [ ! -x "$helper" ] || [ ! -x "$mapsnap" ]; then
	echo "bench-show: build first (need $mapsnap and $helper)" >&2
	exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-show.XXXXXX") || exit 2
BENCH_TMP=$work
. "$(dirname "$0")/bench-lib.sh"
start_helper "$build" manymaps "$maps"
regions=$(wc -l <"/proc/$pid/maps")

have_pmap=0
if command -v pmap >/dev/null 2>&1; then
	have_pmap=1
fi

names="cat show-XX"
[ "$have_pmap" -eq 1 ] && names="$names pmap-XX pmap-x"

command_of() {
	case $1 in
	cat) echo "cat /proc/$pid/smaps" ;;
	show-XX) echo "$mapsnap show -XX $pid" ;;
	pmap-XX) echo "pmap -XX $pid" ;;
	pmap-x) echo "pmap -x $pid" ;;
	esac
}

# Medians in milliseconds, lines "name wall cpu", into $work/medians.
measure_hyperfine() {
	set --
	for n in $names; do
		set -- "$@" -n "$n" "$(command_of "$n")" # output is discarded
	done
	hyperfine -N --style none --warmup 1 --runs "$runs" \
		--export-csv "$work/hf.csv" "$@" >/dev/null 2>&1 || return 1
	# command,mean,stddev,median,user,system,min,max (seconds; CPU as means)
	awk -F, 'NR > 1 { printf "%s %.1f %.1f\n", $1, $4 * 1000, ($5 + $6) * 1000 }' \
		"$work/hf.csv" >"$work/medians"
}

now_ns() {
	date +%s%N
}

# One timed run: wall microseconds to t.NAME, CPU (user + system, from
# /usr/bin/time, 10 ms resolution) to c.NAME.
time_one() {
	t0=$(now_ns)
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f '%U %S' -o "$work/cpu" $(command_of "$1") >/dev/null
	else
		$(command_of "$1") >/dev/null
	fi
	t1=$(now_ns)
	echo $(((t1 - t0) / 1000)) >>"$work/t.$1"
	if [ -x /usr/bin/time ]; then
		awk '{ printf "%d\n", ($1 + $2) * 1000000 }' "$work/cpu" >>"$work/c.$1"
	fi
}

median_of() {
	[ -s "$1" ] || { echo "-"; return; }
	sort -n "$1" | awk '{ v[NR] = $1 }
		END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf "%.1f\n", m / 1000 }'
}

# Round-robin, so a load change on the machine hits every command alike.
measure_loop() {
	for n in $names; do
		$(command_of "$n") >/dev/null # warm-up
		: >"$work/t.$n"
		: >"$work/c.$n"
	done
	r=0
	while [ "$r" -lt "$runs" ]; do
		for n in $names; do
			time_one "$n"
		done
		r=$((r + 1))
	done
	: >"$work/medians"
	for n in $names; do
		echo "$n $(median_of "$work/t.$n") $(median_of "$work/c.$n")" >>"$work/medians"
	done
}

method="date +%s%N loop, $runs rounds"
if command -v hyperfine >/dev/null 2>&1 && measure_hyperfine; then
	method="hyperfine, $runs runs"
else
	measure_loop
fi

median() {
	awk -v n="$1" '$1 == n { print $2 }' "$work/medians"
}

cpu() {
	awk -v n="$1" '$1 == n { print $3 }' "$work/medians"
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a != "-" && b > 0) printf "%.2f", a / b; else print "-" }'
}

cat_ms=$(median cat)
cat_cpu=$(cpu cat)
echo "mapsnap show speed: manymaps, $regions mappings ($method)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
printf '  %-30s %9s %6s %9s %6s\n' "command" "wall ms" "x cat" "CPU ms" "x cat"
for n in $names; do
	printf '  %-30s %9s %6s %9s %6s\n' \
		"$(command_of "$n" | sed "s/ $pid\$/ PID/; s|/$pid/|/PID/|")" \
		"$(median "$n")" "$(ratio "$(median "$n")" "$cat_ms")" \
		"$(cpu "$n")" "$(ratio "$(cpu "$n")" "$cat_cpu")"
done
show_ratio=$(ratio "$(median show-XX)" "$cat_ms")
if [ "$have_pmap" -eq 1 ]; then
	echo "  show -XX is $(ratio "$(median pmap-XX)" "$(median show-XX)")x faster than" \
	     "pmap -XX and $(ratio "$(median pmap-x)" "$(median show-XX)")x faster than pmap -x"
fi
verdict=$(awk -v r="$show_ratio" 'BEGIN { print (r != "-" && r <= 1.5) ? "within" : "OVER" }')
echo "  show -XX / cat (wall) = $show_ratio: $verdict the 1.5 target"
exit 0
