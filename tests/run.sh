#!/bin/sh
# Runs every test binary in BUILD/tests and ends with one aggregate line
# "N passed, N failed" (cmocka 1.1.5 prints one summary per binary on
# stderr). Usage: tests/run.sh BUILD MAPSNAP
build=${1:-build}
export MAPSNAP=${2:-./mapsnap}
export MAPSNAP_HELPERS="$build/helpers"
logdir="$build/test-logs"
mkdir -p "$logdir"
passed=0
failed=0
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
	p=${p:-0}
	f=${f:-0}
	if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
		# Crashed or a sanitizer stopped it before cmocka could count.
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		echo "FAIL $name (exit $status), log: $log"
		grep -E '^\[  (FAILED|ERROR) |^\[ +ERROR|error|ERROR|Sanitizer|runtime error' "$log" | head -n 40
	else
		echo "ok   $name ($p tests)"
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
