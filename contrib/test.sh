#!/bin/sh
# Build Hallmark and run the whole test suite; the last line of output is
# "N passed, N failed" counting individual test cases (TAP), not programs.
#
# Usage: contrib/test.sh [--werror] [--sanitizers] [--builddir DIR] [-- CONFIGURE-ARGS...]
#   --werror      configure with --enable-werror (what CI uses)
#   --sanitizers  ASan+UBSan build of everything, tests included
# Environment: HM_SOAK=1 turns on long simulation/soak runs where tests have them.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
builddir="$top/build"
conf=""
while [ $# -gt 0 ]; do
    case "$1" in
        --werror) conf="$conf --enable-werror" ;;
        --sanitizers) conf="$conf --enable-sanitizers"; builddir="$top/build-asan" ;;
        --builddir) shift; builddir="$1" ;;
        --) shift; conf="$conf $*"; break ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "test.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

fail() {
    echo "test.sh: $1" >&2
    echo "0 passed, 1 failed"
    exit 1
}

"$top/contrib/install-deps.sh" --check >/dev/null 2>&1 || "$top/contrib/install-deps.sh" ||
    fail "could not install dependencies"

jobs=$(nproc 2>/dev/null || echo 2)
(cd "$top" && ./autogen.sh >/dev/null 2>&1) || fail "autogen.sh failed (run it by hand to see why)"
mkdir -p "$builddir" && cd "$builddir" || fail "cannot enter $builddir"
# shellcheck disable=SC2086
"$top/configure" --quiet $conf || fail "configure failed"
make -j"$jobs" >make.log 2>&1 || { tail -40 make.log; fail "build failed (see $builddir/make.log)"; }

make -j"$jobs" check >check.log 2>&1
rc=$?
grep -E '^(PASS|FAIL|ERROR|XPASS|XFAIL|SKIP):' check.log | grep -vE '^PASS:' || true
sed -n '/^=\+$/,$p' check.log | grep -E '^# [A-Z]+:' || true

count() { sed -n "s/^# $1: *\([0-9]*\)\$/\1/p" check.log | tail -1; }
pass=$(count PASS); failn=$(count FAIL); err=$(count ERROR); xpass=$(count XPASS); skip=$(count SKIP)
if [ -z "$pass" ]; then
    tail -40 check.log
    fail "make check did not run the suite (see $builddir/check.log)"
fi
failed=$(( ${failn:-0} + ${err:-0} + ${xpass:-0} ))
if [ "$rc" -ne 0 ] || [ "$failed" -ne 0 ]; then
    for log in $(grep -lE '^(FAIL|ERROR|XPASS):' $(find . -name '*.log' ! -name check.log ! -name make.log ! -name config.log) 2>/dev/null); do
        echo "---- $log"
        tail -30 "$log"
    done
    [ "$failed" -eq 0 ] && failed=1
fi
if [ "${skip:-0}" -gt 0 ]; then
    echo "$pass passed, $failed failed, $skip skipped"
else
    echo "$pass passed, $failed failed"
fi
[ "$failed" -eq 0 ]
