#!/bin/sh
# make check: show that `hallmark-bench net` runs end to end, on a network it
# starts (one node, a few seconds, --quick) and attached to a running
# contrib/devnet.sh network (twice: each run brings fresh keys, serials and
# recipes). The figures go to the log; only a crash, an error, a tx not
# applied (the bench exits non-zero then), an attached network stopped by the
# bench or a wrong cookie taken fails this. Never a timed assertion.
d=${HM_BUILDDIR:-.}
src=${HM_SRCDIR:-$d/..}
bench="$d/bench/hallmark-bench"
echo "1..5"
n=0
fail=0
check() { # check DESCRIPTION STATUS OUTPUT
    n=$((n + 1))
    printf '%s\n' "$3" | sed 's/^/# /'
    if [ "$2" -eq 0 ]; then
        echo "ok $n - $1"
    else
        echo "not ok $n - $1"
        fail=1
    fi
}

out=$("$bench" net --nodes 1 --quick --hallmarkd "$d/node/hallmarkd" 2>&1)
check "hallmark-bench net --nodes 1 --quick" $? "$out"

dn=$(mktemp -d "${TMPDIR:-/tmp}/hm-bench-devnet-XXXXXX")
trap '"$src/contrib/devnet.sh" down --dir "$dn/net" >/dev/null 2>&1; rm -rf "$dn"' EXIT
out=$("$src/contrib/devnet.sh" up -n 4 --dir "$dn/net" --builddir "$d" --batch-timeout-ms 5 2>&1 &&
    HALLMARK_WALLET_DIR="$dn/net/wallet" "$d/wallet/hallmark-wallet" key export consortium --raw \
        -o "$dn/acc.hex" --passphrase-file "$dn/net/passphrase" 2>&1)
st=$?
check "a 4-validator devnet is up and its accreditor key exported" $st "$out"
if [ $st -ne 0 ]; then
    for i in 3 4 5; do echo "not ok $i - skipped: no devnet"; done
    exit 1
fi

for run in first second; do
    out=$("$bench" net --devnet "$dn/net" --accreditor-key "$dn/acc.hex" --quick 2>&1)
    st=$?
    case "$out" in *"network: attached, submitting to 4 of its 4 validators"*) ;; *) st=1 ;; esac
    check "hallmark-bench net --devnet --quick, $run run on the same ledger: every tx applied" \
        $st "$out"
done

alive=0
while read -r name pid datadir url; do
    kill -0 "$pid" 2>/dev/null || alive=1
done <"$dn/net/devnet.state"
url0=$(awk 'NR == 1 { print $4 }' "$dn/net/devnet.state")
out=$("$bench" net --attach "$url0" --rpc-cookie "$dn/net/n1/.cookie" \
    --accreditor-key "$dn/acc.hex" --quick 2>&1)
st=$?
case "$out" in *"HTTP 401: wrong --rpc-cookie?"*) [ $st -eq 2 ] && st=0 || st=1 ;; *) st=1 ;; esac
[ $alive -eq 0 ] || st=1
check "the attached validators still run; another node's cookie is refused (exit 2, HTTP 401)" \
    $st "$out"
exit $fail
