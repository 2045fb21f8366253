#!/bin/sh
# Installs the Debian packages that pkg-config cannot find (make deps),
# without their recommendations: what a test needs is named here.
set -e
missing=""
need() { pkg-config --exists "$1" 2>/dev/null || missing="$missing $2"; }
command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
command -v cc >/dev/null 2>&1 || missing="$missing gcc libc6-dev"
command -v make >/dev/null 2>&1 || missing="$missing make"
need jansson libjansson-dev
need libxxhash libxxhash-dev
need cmocka libcmocka-dev
# make fuzz: clang with libFuzzer and the sanitizer runtimes.
if ! command -v clang >/dev/null 2>&1; then
	missing="$missing clang libclang-rt-14-dev"
elif ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n){(void)d;(void)n;return 0;}' |
	clang -x c -fsanitize=fuzzer,address -o /dev/null - >/dev/null 2>&1; then
	missing="$missing libclang-rt-14-dev"
fi
# make check opens mapsnap report's pages in headless Chromium, and
# checks Chromium's and a Python workload's memory against the kernel
# (test_realworld); test_layouts compiles small shared objects.
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
# mapsnap watch draws with ncurses; its tests drive it in tmux. rank's
# tests compare it with smem and check its Prometheus text with promtool.
need ncursesw libncurses-dev
command -v tmux >/dev/null 2>&1 || missing="$missing tmux"
command -v smem >/dev/null 2>&1 || missing="$missing smem"
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
# test_clickhouse loads region rows into a throwaway ClickHouse server;
# test_prometheus checks the metrics with promtool and node_exporter.
[ -x /usr/sbin/clickhouse-server ] || missing="$missing clickhouse-server"
command -v clickhouse-client >/dev/null 2>&1 || missing="$missing clickhouse-client"
command -v promtool >/dev/null 2>&1 || missing="$missing prometheus"
command -v prometheus-node-exporter >/dev/null 2>&1 || missing="$missing prometheus-node-exporter"
command -v curl >/dev/null 2>&1 || missing="$missing curl"
# make check compares show with procps-ng's pmap on live processes (with
# CI=true a test skipped for want of it fails the run).
command -v pmap >/dev/null 2>&1 || missing="$missing procps"
# make check formats the man page with groff and renders the installed
# one with man -l; the bash completion is tested in bash.
command -v groff >/dev/null 2>&1 || missing="$missing groff-base"
command -v man >/dev/null 2>&1 || missing="$missing man-db"
command -v bash >/dev/null 2>&1 || missing="$missing bash"
if [ -z "$missing" ]; then
	echo "deps: all present"
	exit 0
fi
echo "deps: installing$missing"
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
