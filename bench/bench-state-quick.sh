#!/bin/sh
# make check: show that hallmark-bench-state runs (a few seconds, --quick).
# The figures go to the log; only a crash or an error fails this.
b=${HM_BUILDDIR:-.}/bench/hallmark-bench-state
echo "1..1"
if out=$("$b" --quick 2>&1); then
    printf '%s\n' "$out" | sed 's/^/# /'
    echo "ok 1 - hallmark-bench-state --quick"
else
    printf '%s\n' "$out" | sed 's/^/# /'
    echo "not ok 1 - hallmark-bench-state --quick"
    exit 1
fi
