#!/bin/sh
# make fuzz: seed a corpus for each harness from fixtures/, run it for
# SECONDS with ASan+UBSan, and report executions. A crash leaves its input
# in build-fuzz/crashes/; fix it and keep the input in
# tests/fuzz/regressions/<harness>/ (make check replays those).
# Usage: tests/fuzz/run.sh SECONDS MAPSNAP HARNESS...
set -e
seconds=$1
mapsnap=$2
shift 2
out=build-fuzz
mkdir -p "$out/crashes"
seed() {
	dir="$out/corpus/$1"
	mkdir -p "$dir"
	case $1 in
	smaps)
		for f in fixtures/ref/*/smaps fixtures/ref/*/proc.smaps fixtures/smaps/*.smaps; do
			cp "$f" "$dir/$(echo "$f" | tr / _)"
		done ;;
	json)
		for f in fixtures/ref/*/smaps fixtures/ref/*/proc.smaps fixtures/smaps/*.smaps; do
			"$mapsnap" convert --to json "$f" >"$dir/$(echo "$f" | tr / _).json"
		done ;;
	gate)
		for e in 'rss>+10%' 'rss>+8M' 'heap.rss>+1M' 'anon.dirty>+64M' 'dup-libs>0' \
			'new-libs>0' 'thread-stacks>+0' 'regions>+100' '1.5G' '-4k'; do
			printf '%s' "$e" >"$dir/$(printf '%s' "$e" | od -An -tx1 | tr -d ' \n')"
		done ;;
	diff)
		for pair in "evolve_before evolve_after" "sleep zoo" "mapzoo bigvirt"; do
			set -- $pair
			a=fixtures/ref/$1/smaps; [ -f "$a" ] || a=fixtures/ref/$1/proc.smaps
			b=fixtures/ref/$2/smaps; [ -f "$b" ] || b=fixtures/ref/$2/proc.smaps
			{ cat "$a"; printf '\0'; cat "$b"; } >"$dir/$1-$2"
		done ;;
	esac
	if [ -d "tests/fuzz/regressions/$1" ]; then
		cp tests/fuzz/regressions/"$1"/* "$dir/" 2>/dev/null || true
	fi
}
status=0
for h in "$@"; do
	seed "$h"
	log="$out/fuzz_$h.log"
	if "$out/fuzz_$h" -max_total_time="$seconds" -print_final_stats=1 \
		-dict=tests/fuzz/values.dict \
		-artifact_prefix="$out/crashes/$h-" -max_len=262144 -rss_limit_mb=2048 \
		"$out/corpus/$h" >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		echo "fuzz_$h: ok, $runs executions in ${seconds}s"
	else
		echo "fuzz_$h: FAILED, see $log and $out/crashes/"
		grep -E 'ERROR|invariant|SUMMARY' "$log" | head -n 5
		status=1
	fi
done
exit $status
