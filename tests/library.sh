#!/bin/sh
# make check-lib: installs libmapsnap into a temporary PREFIX, builds
# tests/example/example_diff.c against it with pkg-config (the shared
# library, then the static one with --static) and runs both, checking
# what they print. Ends with "library: N passed, N failed"; any failure
# exits 1, so make check fails.
# Usage: MAKE=make tests/library.sh BUILD MAPSNAP
build=${1:-build}
mapsnap=${2:-./mapsnap}
make=${MAKE:-make}
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
prefix="$tmp/prefix"
passed=0
failed=0

ok() { passed=$((passed + 1)); }
fail() {
	failed=$((failed + 1))
	echo "FAIL library: $*"
}
check() { # check DESCRIPTION COMMAND...
	what=$1
	shift
	if "$@"; then ok; else fail "$what"; fi
}

if ! $make --no-print-directory -s install-lib BUILD="$build" PREFIX="$prefix" \
	DESTDIR= >"$tmp/install.log" 2>&1; then
	cat "$tmp/install.log"
	echo "library: 0 passed, 1 failed (make install-lib)"
	exit 1
fi

for f in include/mapsnap/snap.h include/mapsnap/snapfile.h lib/libmapsnap.a \
	lib/pkgconfig/mapsnap.pc; do
	check "$f installed" test -f "$prefix/$f"
done
check "no bare snap.h in include/" test ! -e "$prefix/include/snap.h"
version=$("$mapsnap" --version | sed -n 's/^mapsnap //p')
so="$prefix/lib/libmapsnap.so"
soname=$(readelf -d "$so" 2>/dev/null | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
check "libmapsnap.so's soname is libmapsnap.so.MAJOR.MINOR ($soname)" \
	test "$soname" = "libmapsnap.so.${version%.*}"
check "the soname is installed as a link" test -L "$prefix/lib/$soname"
# Only the public API leaves the shared library.
nm -D --defined-only "$so" | awk '{print $3}' | grep -v '^snap_' >"$tmp/leaked"
check "libmapsnap.so exports only snap_* ($(head -3 "$tmp/leaked" | tr '\n' ' '))" \
	test ! -s "$tmp/leaked"

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
check "pkg-config --modversion mapsnap is mapsnap --version ($version)" \
	test "$(pkg-config --modversion mapsnap)" = "$version"
check "pkg-config --cflags names the PREFIX" \
	test "$(pkg-config --cflags mapsnap | sed 's/ *$//')" = "-I$prefix/include"

src=tests/example/example_diff.c
# The documented line, verbatim apart from the output name.
# shellcheck disable=SC2046
check "example builds with pkg-config --cflags --libs" \
	$cc -std=c11 -Wall -Wextra -Werror $src $(pkg-config --cflags --libs mapsnap) \
	-o "$tmp/example_shared"
# shellcheck disable=SC2046
check "example builds static with pkg-config --static" \
	$cc -std=c11 -Wall -Wextra -Werror $src $(pkg-config --cflags mapsnap) \
	"$prefix/lib/libmapsnap.a" $(pkg-config --static --libs-only-l mapsnap |
		sed 's/-lmapsnap//') -o "$tmp/example_static"
check "the static example needs no libmapsnap.so" \
	sh -c "! readelf -d '$tmp/example_static' | grep -q libmapsnap"

# What a run must print: the version, a snapshot that survived saving and
# loading, and the 8 MiB it mapped found by the diff, every page of it.
run_example() { # run_example NAME [ENV...]
	name=$1
	shift
	out="$tmp/$name.out"
	mkdir -p "$tmp/$name.dir"
	env "$@" "$tmp/$name" "$tmp/$name.dir" >"$out" 2>"$tmp/$name.err"
	status=$?
	if [ "$status" -ne 0 ]; then
		fail "$name exited with status $status ($(cat "$tmp/$name.err"))"
		return
	fi
	ok
	check "$name prints libmapsnap $version" \
		test "$(sed -n 1p "$out")" = "libmapsnap $version"
	saved="$tmp/$name.dir/before.json"
	regions=$(grep -o '"region_count":[0-9]*' "$saved" | cut -d: -f2)
	check "$name saved a snapshot mapsnap reads" "$mapsnap" show "$saved" \
		>/dev/null 2>&1
	check "$name round trip ($(sed -n 2p "$out"))" \
		test "$(sed -n 2p "$out")" = "saved $regions regions, loaded $regions, checksums equal"
	check "$name saved a file only its owner reads" \
		test "$(stat -c %a "$saved")" = 600
	check "$name diff is by address" \
		test "$(sed -n 3p "$out" | sed 's/.*matched by //')" = address
	line=$(sed -n 4p "$out")
	rss=$(echo "$line" | sed -n 's/^the 8 MiB mapping: \(new\|grown\), Rss +\([0-9]*\) kB$/\2/p')
	check "$name finds the 8 MiB mapping ($line)" test "${rss:-0}" -ge 8192
}
run_example example_shared LD_LIBRARY_PATH="$prefix/lib"
run_example example_static

check "uninstall-lib removes what install-lib put there" sh -c "
	$make --no-print-directory -s uninstall-lib BUILD='$build' PREFIX='$prefix' DESTDIR= &&
	test -z \"\$(find '$prefix' -type f -o -type l)\""

echo "library: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
