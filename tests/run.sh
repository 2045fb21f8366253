#!/bin/sh
# Runs every test binary in BUILD/tests and ends with one aggregate line
# "N passed, N failed, N skipped" (cmocka 1.1.5 prints one summary per
# binary on stderr). With CI=true a skipped test fails the run: CI installs
# everything the tests need, so nothing may be skipped there.
# Usage: tests/run.sh BUILD MAPSNAP
build=${1:-build}
export MAPSNAP=${2:-./mapsnap}
export MAPSNAP_HELPERS="$build/helpers"
logdir="$build/test-logs"
mkdir -p "$logdir"
passed=0
failed=0
skipped=0
for t in "$build"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	log="$logdir/$name.log"
	# No test may hang CI: a binary gets 10 minutes at the most.
	timeout -k 10 600 "$t" >"$log" 2>&1
	status=$?
	[ "$status" -eq 124 ] && echo "timed out after 600 s" >>"$log"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	p=${p:-0}
	f=${f:-0}
	s=${s:-0}
	if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
		# Crashed or a sanitizer stopped it before cmocka could count.
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	if [ "$f" -ne 0 ]; then
		echo "FAIL $name (exit $status), log: $log"
		grep -E '^\[  (FAILED|ERROR) |^\[ +ERROR|error|ERROR|Sanitizer|runtime error' "$log" | head -n 40
	elif [ "$s" -ne 0 ]; then
		echo "ok   $name ($p tests, $s skipped:$(sed -n 's/^\[  SKIPPED \] \([^0-9].*\)/ \1/p' "$log" | sort -u | tr -d '\n'))"
	else
		echo "ok   $name ($p tests)"
	fi
done
echo "$passed passed, $failed failed, $skipped skipped"
if [ "$CI" = true ] && [ "$skipped" -ne 0 ]; then
	echo "CI=true: $skipped skipped test(s) count as failures (CI installs every dependency)"
	exit 1
fi
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
