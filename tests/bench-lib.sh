# Shared by the benchmark scripts (sourced). Public tools only: the shell,
# date(1) and GNU /usr/bin/time. Runs are interleaved (A B A B ...) so a
# drifting machine affects both sides alike; medians are reported.

RUNS=${RUNS:-7}

now_ns() { date +%s%N; }

# wall_ms CMD...: one run's wall time in milliseconds (output discarded).
wall_ms() {
	t0=$(now_ns)
	"$@" >/dev/null 2>&1
	t1=$(now_ns)
	echo $(( (t1 - t0) / 1000 ))
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# compare NAME_A "CMD A" NAME_B "CMD B": medians of interleaved runs and
# the median of the per-pair ratios A/B.
compare() {
	name_a=$1 cmd_a=$2 name_b=$3 cmd_b=$4
	: >"$BENCH_TMP/a" ; : >"$BENCH_TMP/b" ; : >"$BENCH_TMP/r"
	sh -c "$cmd_a" >/dev/null 2>&1 # warm-up
	sh -c "$cmd_b" >/dev/null 2>&1
	i=0
	while [ $i -lt "$RUNS" ]; do
		a=$(wall_ms sh -c "$cmd_a")
		b=$(wall_ms sh -c "$cmd_b")
		echo "$a" >>"$BENCH_TMP/a"
		echo "$b" >>"$BENCH_TMP/b"
		awk -v a="$a" -v b="$b" 'BEGIN { printf "%.4f\n", a / (b > 0 ? b : 1) }' >>"$BENCH_TMP/r"
		i=$((i + 1))
	done
	ma=$(median <"$BENCH_TMP/a")
	mb=$(median <"$BENCH_TMP/b")
	mr=$(median <"$BENCH_TMP/r")
	printf '  %-28s median %8.1f ms\n' "$name_a" "$(echo "$ma" | awk '{print $1/1000}')"
	printf '  %-28s median %8.1f ms\n' "$name_b" "$(echo "$mb" | awk '{print $1/1000}')"
	printf '  ratio %s / %s: %s (median of %d paired runs)\n' "$name_a" "$name_b" "$mr" "$RUNS"
	LAST_RATIO=$mr
}

# peak_kib CMD...: the peak resident set size of one run, in KiB.
peak_kib() {
	/usr/bin/time -f '%M' -o "$BENCH_TMP/peak" "$@" >/dev/null 2>&1
	tail -n 1 "$BENCH_TMP/peak"
}

# verdict RATIO LIMIT WHAT: prints whether the target holds (never fails
# the build: a noisy machine is not a broken program).
verdict() {
	awk -v r="$1" -v l="$2" -v w="$3" 'BEGIN { printf "  target %s <= %s: %s\n", w, l, (r <= l ? "met" : "NOT met") }'
}

# start_helper BUILD NAME ARG...: starts BUILD/helpers/NAME with its stdin
# on a fifo in $BENCH_TMP (it runs until stop_helper closes it, or the
# script exits, which also removes $BENCH_TMP), waits for its "ready PID"
# line and sets helper_pid and pid. Exits 2 when the helper does not start.
start_helper() {
	helper_build=$1 helper_name=$2
	shift 2
	mkfifo "$BENCH_TMP/stdin"
	"$helper_build/helpers/$helper_name" "$@" <"$BENCH_TMP/stdin" >"$BENCH_TMP/ready" &
	helper_pid=$!
	exec 3>"$BENCH_TMP/stdin"
	trap bench_cleanup EXIT INT TERM
	tries=0
	while ! grep -q '^ready' "$BENCH_TMP/ready" 2>/dev/null; do
		tries=$((tries + 1))
		if [ "$tries" -gt 600 ] || ! kill -0 "$helper_pid" 2>/dev/null; then
			echo "bench: $helper_name $* did not start" >&2
			exit 2
		fi
		sleep 0.1
	done
	pid=$(awk '/^ready/ { print $2; exit }' "$BENCH_TMP/ready")
}

stop_helper() {
	exec 3>&-
}

bench_cleanup() {
	exec 3>&-
	wait "$helper_pid" 2>/dev/null
	rm -rf "$BENCH_TMP"
}
