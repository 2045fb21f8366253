#!/bin/sh
# Hostile inputs against loading time and memory: a snapshot naming
# 60,000 fields and one with 8 regions of 30,000 fields each (they took
# 7.2 s and 14.5 s when loading was quadratic), each beside one with half
# as many; and 1 GB of garbage in five forms, each of which must be
# refused early. Run by tests/bench.sh (make bench) or alone:
# tests/bench-hostile.sh [MAPSNAP] [BUILD].
# Targets (issue 15): loading is linear (twice the crafted fields take at
# most 3x the time; quadratic work takes 4x) and each crafted snapshot
# loads in under 1 s;
# each gigabyte of garbage is refused in under 1 s and 100 MiB. Verdicts are printed, never fatal; times come from date(1)
# and peaks from GNU /usr/bin/time.
set -u
mapsnap=${1:-${MAPSNAP:-./mapsnap}}
here=$(dirname "$0")
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-hostile.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT INT TERM
BENCH_TMP=$work
. "$here/bench-lib.sh"

# names N OUT: a snapshot of 100 regions whose "fields" names N fields.
names() {
	awk -v n="$1" 'BEGIN {
		printf "{\"schema\":\"mapsnap.snapshot/1\",\"regions\":["
		for (i = 0; i < 100; i++)
			printf "%s{\"start\":\"%08x\",\"end\":\"%08x\",\"perms\":\"rw-p\",\"offset\":\"0\",\"dev\":\"00:00\",\"inode\":0,\"path\":\"\",\"Size\":4,\"F%d\":%d}", \
				i ? "," : "", 268435456 + i * 4096, 268439552 + i * 4096, i * (n / 100), i + 1
		printf "],\"fields\":[\"Size\""
		for (i = 0; i < n; i++)
			printf ",\"F%d\"", i
		printf "]}\n"
	}' >"$2"
}
# own F OUT: 8 regions, each with its own F fields and a value for each.
own() {
	awk -v r=8 -v f="$1" 'BEGIN {
		printf "{\"schema\":\"mapsnap.snapshot/1\",\"regions\":["
		for (k = 0; k < r; k++) {
			printf "%s{\"start\":\"%08x\",\"end\":\"%08x\",\"perms\":\"rw-p\",\"offset\":\"0\",\"dev\":\"00:00\",\"inode\":0,\"path\":\"\",\"fields\":[\"Size\"", \
				k ? "," : "", 268435456 + k * 4096, 268439552 + k * 4096
			for (i = 0; i < f; i++)
				printf ",\"G%d\"", i
			printf "],\"Size\":4"
			for (i = 0; i < f; i++)
				printf ",\"G%d\":%d", i, k + 1
			printf "}"
		}
		printf "]}\n"
	}' >"$2"
}
names 30000 "$work/names-30k.json"
names 60000 "$work/names-60k.json"
own 15000 "$work/own-15k.json"
own 30000 "$work/own-30k.json"

# once WHAT CMD...: the median wall time of RUNS runs, against 1 s.
once() {
	what=$1
	shift
	: >"$work/t"
	i=0
	while [ $i -lt "$RUNS" ]; do
		wall_ms "$@" >>"$work/t"
		i=$((i + 1))
	done
	ms=$(median <"$work/t" | awk '{ printf "%.1f", $1 / 1000 }')
	awk -v ms="$ms" -v w="$what" 'BEGIN { printf "  %-40s median %8.1f ms; target < 1000 ms: %s\n", w, ms, (ms < 1000 ? "met" : "NOT met") }'
}

echo "crafted snapshots: loading is linear (target: twice the fields take at most"
echo "3x the time, where quadratic work takes 4x; each load under 1 s, where it"
echo "took 7.2 s and 14.5 s)"
once "show, 60,000 field names ($(wc -c <"$work/names-60k.json") B)" \
	"$mapsnap" show --no-checksum "$work/names-60k.json"
compare "show, 60,000 names" "$mapsnap show --no-checksum $work/names-60k.json" \
	"show, 30,000 names" "$mapsnap show --no-checksum $work/names-30k.json"
verdict "$LAST_RATIO" 3 "60,000/30,000 names"
once "summary, 8 x 30,000 fields ($(wc -c <"$work/own-30k.json") B)" \
	"$mapsnap" summary --no-checksum "$work/own-30k.json"
compare "summary, 8 x 30,000 fields" "$mapsnap summary --no-checksum $work/own-30k.json" \
	"summary, 8 x 15,000 fields" "$mapsnap summary --no-checksum $work/own-15k.json"
verdict "$LAST_RATIO" 3 "30,000/15,000 fields a region"

# refused WHAT PRODUCER: runs mapsnap show on what PRODUCER writes to its
# stdout (a pipe: mapsnap stops reading when it refuses) or, for "file:
# PATH", on that file; prints the time, the peak RSS and the one line.
refused() {
	what=$1 producer=$2
	case $producer in
	file:*) arg=${producer#file:} feed=true ;;
	*) arg=- feed=$producer ;;
	esac
	t0=$(now_ns)
	sh -c "$feed" 2>/dev/null | /usr/bin/time -f '%M' -o "$work/peak" \
		"$mapsnap" show "$arg" >/dev/null 2>"$work/err"
	t1=$(now_ns)
	ms=$(( (t1 - t0) / 1000000 ))
	peak=$(tail -n 1 "$work/peak")
	printf '  %-34s %5d ms %7d KiB  %s\n' "$what" "$ms" "$peak" "$(head -c 110 "$work/err" | head -n 1)"
	awk -v ms="$ms" -v kib="$peak" -v w="$what" 'BEGIN {
		if (ms >= 1000 || kib >= 102400)
			printf "  target %s: under 1 s and 100 MiB: NOT met\n", w }'
}

GB=1073741824
printf '{"a":"' >"$work/nul.json"
truncate -s $GB "$work/nul.json"
echo
echo "1 GB of garbage (target: each refused in under 1 s and 100 MiB)"
refused "a string of NUL bytes (a file)" "file:$work/nul.json"
refused "random bytes after '{'" "printf '{'; head -c $GB /dev/urandom"
refused "a 1 GB string in valid JSON" \
	"printf '{\"schema\":\"mapsnap.snapshot/1\",\"junk\":\"'; head -c $GB /dev/zero | tr '\\000' a"
refused "'[' nested a billion deep" "head -c $GB /dev/zero | tr '\\000' '['"
refused "hex digits, no newline (smaps?)" "head -c $GB /dev/zero | tr '\\000' 0"
echo "  (every line above without a 'NOT met' met its target)"
