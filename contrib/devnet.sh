#!/bin/bash
# Hallmark devnet: a local N-validator consortium on 127.0.0.1, no story.
# For developers and benchmarks; contrib/quickstart.sh uses it too.
#
# Usage: contrib/devnet.sh up     [-n N] [--dir DIR] [--builddir DIR] [--batch-timeout-ms MS]
#        contrib/devnet.sh status [--dir DIR] [--builddir DIR]
#        contrib/devnet.sh down   [--dir DIR]
#
#   up      stop the network in DIR (if any), wipe DIR, init N validators
#           (default 4), write a genesis whose accreditor is the wallet key
#           "consortium", start the validators on free ports and wait until
#           they are connected; prints each node's RPC URL and cookie path
#   status  height, view, peers and mempool of each node
#   down    stop the validators started by `up` (SIGTERM, then SIGKILL)
#
#   -n N             validators (default 4; use 3f+1: 4, 7, 10 ...)
#   --dir DIR        where the network lives (default: $HOME/.hallmark/devnet)
#   --builddir DIR   where hallmarkd and hallmark-wallet were built
#                    (default $HM_BUILDDIR, else <source>/build)
#   --batch-timeout-ms MS   the genesis batch timeout (default 100)
#
# DIR holds n0..nN-1 (datadirs; each logs to hallmarkd.log), genesis.json,
# wallet/ (keystore with the "consortium" accreditor key), passphrase (the
# keystore passphrase, mode 0600, a DEMO secret: never do this with real keys),
# env.sh (source it to point hallmark-wallet at node 0) and devnet.state
# (the PIDs). Everything listens on 127.0.0.1 only.
set -eu -o pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
me=devnet

usage() { awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; }
die() { echo "$me: error: $*" >&2; exit 2; }

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
    B=$(printf '\033[1m'); G=$(printf '\033[32m'); R=$(printf '\033[31m'); N=$(printf '\033[0m')
else
    B=; G=; R=; N=
fi
step() { printf '%s==>%s %s\n' "$B$G" "$N" "$*"; }
say() { printf '    %s\n' "$*"; }

cmd=${1:-}
[ $# -gt 0 ] && shift
nval=4
dir=${HM_DEVNET_DIR:-$HOME/.hallmark/devnet}
builddir=${HM_BUILDDIR:-$top/build}
batch_ms=100
while [ $# -gt 0 ]; do
    case "$1" in
        -n) [ $# -ge 2 ] || die "-n needs a number"; nval=$2; shift ;;
        --dir) [ $# -ge 2 ] || die "--dir needs a directory"; dir=$2; shift ;;
        --builddir) [ $# -ge 2 ] || die "--builddir needs a directory"; builddir=$2; shift ;;
        --batch-timeout-ms) [ $# -ge 2 ] || die "--batch-timeout-ms needs a number"; batch_ms=$2; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
    shift
done
case "$cmd" in
    up|down|status) ;;
    -h|--help|help) usage; exit 0 ;;
    "") usage >&2; exit 2 ;;
    *) die "unknown command '$cmd' (up, down or status)" ;;
esac
case "$nval" in
    ''|*[!0-9]*) die "-n wants a positive number, not '$nval'" ;;
esac
[ "$nval" -ge 1 ] && [ "$nval" -le 64 ] || die "-n must be 1..64"
case "$dir" in /*) ;; *) dir="$(pwd)/$dir" ;; esac
case "$builddir" in /*) ;; *) builddir="$(pwd)/$builddir" ;; esac

HALLMARKD=$builddir/node/hallmarkd
WALLET=$builddir/wallet/hallmark-wallet
statefile=$dir/devnet.state

need_binaries() {
    [ -x "$HALLMARKD" ] && [ -x "$WALLET" ] ||
        die "no hallmarkd/hallmark-wallet in $builddir (build first: contrib/quickstart.sh builds, or --builddir DIR)"
}

# --- process bookkeeping: devnet.state holds "NAME PID DATADIR RPCURL" lines

# Is PID a running hallmarkd on DATADIR? (guards against recycled PIDs)
is_ours() {
    local pid=$1 datadir=$2 cmdline
    [ -r "/proc/$pid/cmdline" ] || return 1
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    case "$cmdline" in
        *hallmarkd*"--datadir $datadir "*) return 0 ;;
        *) return 1 ;;
    esac
}

do_down() {
    if [ ! -f "$statefile" ]; then
        say "no network recorded in $dir"
        return 0
    fi
    local name pid datadir url stopped=0 i
    local pids=()
    while read -r name pid datadir url; do
        if is_ours "$pid" "$datadir"; then
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid:$datadir:$name")
        fi
    done <"$statefile"
    for entry in "${pids[@]+"${pids[@]}"}"; do
        pid=${entry%%:*}; rest=${entry#*:}; datadir=${rest%:*}; name=${rest##*:}
        for i in $(seq 1 100); do
            is_ours "$pid" "$datadir" || break
            sleep 0.1
        done
        if is_ours "$pid" "$datadir"; then
            kill -KILL "$pid" 2>/dev/null || true
            say "$name (pid $pid) did not stop on SIGTERM within 10 s: killed"
        fi
        stopped=$((stopped + 1))
    done
    rm -f "$statefile"
    say "stopped $stopped validator(s) of $dir"
}

rpc_status_json() { # URL COOKIE -> the node's status JSON (or nothing)
    "$WALLET" status --node "$1" --rpc-cookie "$2" --json 2>/dev/null || true
}

do_status() {
    need_binaries
    [ -f "$statefile" ] || { say "no network running in $dir"; return 1; }
    local name pid datadir url down=0
    printf '    %-6s %-7s %-24s %7s %5s %6s %8s\n' node pid rpc height view peers mempool
    while read -r name pid datadir url; do
        if ! is_ours "$pid" "$datadir"; then
            printf '    %-6s %-7s %-24s %s\n' "$name" "$pid" "${url#http://}" "${R}not running$N"
            down=$((down + 1))
            continue
        fi
        rpc_status_json "$url" "$datadir/.cookie" | python3 -c '
import json, sys
name, pid, url = sys.argv[1:4]
try:
    s = json.load(sys.stdin)
except ValueError:
    print("    %-6s %-7s %-24s not answering" % (name, pid, url)); sys.exit(0)
print("    %-6s %-7s %-24s %7s %5s %6s %8s" % (name, pid, url, s.get("height"), s.get("view"),
      s.get("peers_connected"), s.get("mempool_size")))' "$name" "$pid" "${url#http://}"
    done <"$statefile"
    [ "$down" -eq 0 ]
}

free_ports() { # N -> N distinct free TCP ports on 127.0.0.1
    python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
EOF
}

# H_hallmark/gid(pubkey || 0xFFFFFFFFFFFFFFFF)[0..20]: a genesis accreditor's GID
genesis_gid() {
    python3 - "$1" <<'EOF'
import hashlib, sys
tag = hashlib.sha256(b"hallmark/gid").digest()
h = hashlib.sha256(tag + tag + bytes.fromhex(sys.argv[1]) + b"\xff" * 8).hexdigest()
print("did:hallmark:" + h[:40])
EOF
}

do_up() {
    need_binaries
    command -v python3 >/dev/null || die "python3 is needed (free ports, JSON)"
    if [ -f "$statefile" ]; then
        step "Stop the network previously started in $dir"
        do_down
    fi
    if [ -d "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ] && [ ! -f "$dir/.hallmark-devnet" ]; then
        die "$dir exists, is not empty and was not made by devnet.sh: choose another --dir"
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    : >"$dir/.hallmark-devnet"

    local ports i p2p rpc
    read -r -a ports <<<"$(free_ports $((2 * nval)))"
    step "Initialise $nval validators (keys, TLS certificates, configs) in $dir"
    local records=()
    for i in $(seq 0 $((nval - 1))); do
        p2p=${ports[$((2 * i))]}
        rpc=${ports[$((2 * i + 1))]}
        "$HALLMARKD" init --datadir "$dir/n$i" --name "val$i" \
            --listen "127.0.0.1:$p2p" --rpc-bind "127.0.0.1:$rpc" >/dev/null 2>"$dir/init.err" ||
            { cat "$dir/init.err" >&2; die "hallmarkd init failed"; }
        echo "log_file = hallmarkd.log" >>"$dir/n$i/hallmarkd.conf"
        records+=(--validator "$dir/n$i/validator.json")
        say "val$i  p2p 127.0.0.1:$p2p  rpc http://127.0.0.1:$rpc  $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("key " + r["pubkey"][:16] + "…  tls " + r["tls_fingerprint"][:16] + "…")' "$dir/n$i/validator.json")"
    done
    rm -f "$dir/init.err"

    step "Create the consortium's accreditor key (wallet in $dir/wallet; demo passphrase in $dir/passphrase)"
    umask 077
    echo "hallmark-demo-only" >"$dir/passphrase"
    umask 022
    export HALLMARK_WALLET_DIR=$dir/wallet
    "$WALLET" key create consortium --passphrase-file "$dir/passphrase" >/dev/null
    local acc gid
    acc=$("$WALLET" key show consortium --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pubkey"])')
    gid=$(genesis_gid "$acc")
    "$WALLET" key set-gid consortium "$gid" >/dev/null
    say "consortium key $acc"
    say "its genesis GID $gid (recorded for the key)"

    step "Write the genesis (validators + the consortium as accreditor) and copy it to every node"
    local chain
    chain=$("$HALLMARKD" genesis -o "$dir/genesis.json" --chain-name hallmark-devnet \
        --batch-timeout-ms "$batch_ms" --view-change-timeout-ms 2000 \
        --accreditor "Consortium:OPERATOR:$acc" "${records[@]}" 2>"$dir/genesis.err" | head -1) ||
        { cat "$dir/genesis.err" >&2; die "hallmarkd genesis failed"; }
    rm -f "$dir/genesis.err"
    for i in $(seq 0 $((nval - 1))); do
        cp "$dir/genesis.json" "$dir/n$i/genesis.json"
    done
    echo "$chain" >"$dir/chain_id"
    say "chain id $chain"

    step "Start the validators"
    : >"$statefile"
    for i in $(seq 0 $((nval - 1))); do
        rpc=${ports[$((2 * i + 1))]}
        # setsid: the nodes outlive this script and ignore the terminal's ^C
        setsid "$HALLMARKD" run --datadir "$dir/n$i" </dev/null >>"$dir/n$i/stderr.log" 2>&1 &
        echo "val$i $! $dir/n$i http://127.0.0.1:$rpc" >>"$statefile"
    done
    local name pid datadir url ok
    while read -r name pid datadir url; do
        ok=
        for i in $(seq 1 100); do
            is_ours "$pid" "$datadir" || break
            if [ -f "$datadir/.cookie" ] && "$WALLET" status --node "$url" --rpc-cookie "$datadir/.cookie" >/dev/null 2>&1; then
                ok=1; break
            fi
            sleep 0.1
        done
        if [ -z "$ok" ]; then
            echo "$me: $name did not start; its log:" >&2
            tail -5 "$datadir/hallmarkd.log" "$datadir/stderr.log" >&2 2>/dev/null || true
            do_down >&2
            exit 1
        fi
        say "$name pid $pid  rpc $url  cookie $datadir/.cookie"
    done <"$statefile"

    step "Wait until every validator is connected to the $((nval - 1)) others"
    local t0 peers
    t0=$(date +%s)
    while :; do
        ok=1
        while read -r name pid datadir url; do
            peers=$(rpc_status_json "$url" "$datadir/.cookie" |
                python3 -c 'import json,sys; print(json.load(sys.stdin).get("peers_connected", 0))' 2>/dev/null || echo 0)
            [ "$peers" -ge $((nval - 1)) ] || ok=
        done <"$statefile"
        [ -n "$ok" ] && break
        [ $(($(date +%s) - t0)) -lt 30 ] || die "validators not connected after 30 s (logs: $dir/n*/hallmarkd.log)"
        sleep 0.2
    done
    say "meshed after $(($(date +%s) - t0)) s"

    local url0 cookie0
    read -r name pid datadir url0 <"$statefile"
    cookie0=$datadir/.cookie
    cat >"$dir/env.sh" <<EOF
# source this file: hallmark-wallet then talks to val0 with the devnet keystore
export HALLMARK_WALLET_DIR='$dir/wallet'
export HALLMARK_NODE='$url0'
export HALLMARK_RPC_COOKIE='$cookie0'   # pass as --rpc-cookie "\$HALLMARK_RPC_COOKIE"
export PATH='$builddir/node:$builddir/wallet':"\$PATH"
EOF
}

case "$cmd" in
    up)
        do_up
        step "Devnet up: $nval validators on 127.0.0.1, chain id $(cat "$dir/chain_id")"
        say "status:  $0 status --dir $dir"
        say "stop:    $0 down --dir $dir"
        say "wallet:  . $dir/env.sh && hallmark-wallet status --rpc-cookie \"\$HALLMARK_RPC_COOKIE\""
        ;;
    down)
        step "Stop the devnet in $dir"
        do_down
        ;;
    status)
        do_status
        ;;
esac
