#!/bin/sh
# make check: show that `hallmark-bench net` runs end to end (one node, a
# few seconds, --quick). The figures go to the log; only a crash, an error
# or a tx not applied fails this. Never a timed assertion.
d=${HM_BUILDDIR:-.}
echo "1..1"
if out=$("$d/bench/hallmark-bench" net --nodes 1 --quick --hallmarkd "$d/node/hallmarkd" 2>&1); then
    printf '%s\n' "$out" | sed 's/^/# /'
    echo "ok 1 - hallmark-bench net --nodes 1 --quick"
else
    printf '%s\n' "$out" | sed 's/^/# /'
    echo "not ok 1 - hallmark-bench net --nodes 1 --quick"
    exit 1
fi
