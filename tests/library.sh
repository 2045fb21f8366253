#!/bin/sh
# make check-lib: installs libmapsnap into a temporary PREFIX, builds
# tests/example/example_diff.c and the program of README.md's "Using the
# library from C" against it with the two pkg-config lines README gives
# (the shared library, then the static one with --static) and runs them,
# checking what they print. Ends with "library: N passed, N failed"; any
# failure exits 1, so make check fails.
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

# README's two lines, verbatim apart from the warnings and output names.
build_shared() { # build_shared SOURCE OUTPUT
	# shellcheck disable=SC2046
	$cc -std=c11 -Wall -Wextra -Werror "$1" $(pkg-config --cflags --libs mapsnap) -o "$2"
}
build_static() {
	# shellcheck disable=SC2046
	$cc -std=c11 -Wall -Wextra -Werror "$1" $(pkg-config --static --cflags --libs mapsnap |
		sed 's/-lmapsnap/-l:libmapsnap.a/') -o "$2"
}
src=tests/example/example_diff.c
check "example builds with pkg-config --cflags --libs" build_shared $src "$tmp/example_shared"
check "example builds with pkg-config --static" build_static $src "$tmp/example_static"
check "the static example needs no libmapsnap.so" \
	sh -c "! readelf -d '$tmp/example_static' | grep -q libmapsnap"
check "the shared example loads $soname" \
	sh -c "readelf -d '$tmp/example_shared' | grep -q 'NEEDED.*\[$soname\]'"

# The program README shows: the first C block of its library section.
sed -n '/^## Using the library from C/,/^## /p' README.md |
	sed -n '/^```c$/,/^```$/p' | sed '1d;$d' >"$tmp/growth.c"
check "README's library section has a C program" grep -q 'int main' "$tmp/growth.c"
check "README's program builds with pkg-config --cflags --libs" \
	build_shared "$tmp/growth.c" "$tmp/growth_shared"
check "README's program builds with pkg-config --static" \
	build_static "$tmp/growth.c" "$tmp/growth_static"

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

# README's program on a snapshot the example saved, against itself, and
# on a file that is not there.
snapshot="$tmp/example_static.dir/before.json"
for name in growth_shared growth_static; do
	out=$(LD_LIBRARY_PATH="$prefix/lib" "$tmp/$name" "$snapshot" "$snapshot" 2>&1)
	check "$name on one snapshot twice ($out)" \
		test "$out" = "Rss +0 kB, 0 changes of 64 kB or more (libmapsnap $version)"
	out=$(LD_LIBRARY_PATH="$prefix/lib" "$tmp/$name" "$snapshot" "$tmp/none.json" 2>&1)
	status=$?
	check "$name names a missing file ($out, status $status)" \
		test "$out:$status" = "growth: $tmp/none.json: cannot open: No such file or directory:2"
done

check "uninstall-lib removes what install-lib put there" sh -c "
	$make --no-print-directory -s uninstall-lib BUILD='$build' PREFIX='$prefix' DESTDIR= &&
	test -z \"\$(find '$prefix' -type f -o -type l)\""

echo "library: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
