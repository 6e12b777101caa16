#!/bin/sh
# Layer check (DESIGN §1): includes go one way, lib <- consensus, contracts
# <- node, wallet; foreign libraries stay inside their wrappers. TAP output,
# one test per rule, so a violation names the rule and the offending lines.
top=${HM_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top" || exit 1

n=0
fails=0
rule() { # rule NAME OFFENDING-LINES: empty = ok
    n=$((n + 1))
    out=$2
    if [ -z "$out" ]; then
        echo "ok $n - $1"
    else
        echo "not ok $n - $1"
        printf '%s\n' "$out" | sed 's/^/#   /'
        fails=$((fails + 1))
    fi
}
src() { # src DIR...: C sources and headers under the dirs, if any
    for d in "$@"; do [ -d "$d" ] && find "$d" -name '*.[ch]' ! -name '*.pb-c.*'; done | sort
}
inc() { # inc PATTERN DIR...: #include lines matching PATTERN
    pat=$1
    shift
    files=$(src "$@")
    [ -n "$files" ] && grep -HnE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($pat)" $files
    true
}

echo "1..9"
rule "lib/ includes no upper layer" "$(inc 'consensus/|contracts/|node/|wallet/' lib)"
rule "consensus/ includes only lib/ and proto/" "$(inc 'contracts/|node/|wallet/' consensus)"
rule "contracts/ includes only lib/ and proto/" "$(inc 'consensus/|node/|wallet/' contracts)"
rule "node/ does not include wallet/" "$(inc 'wallet/' node)"
rule "wallet/ does not include node/" "$(inc 'node/' wallet)"
# (test_storage opens the store's databases raw, to check what is on disk)
rule "only node/storage and its unit test include leveldb/c.h" \
    "$(inc 'leveldb/' lib consensus contracts node wallet fuzz tests |
       grep -v -e '^node/storage' -e '^tests/unit/test_storage\.c:')"
files=$(src lib consensus contracts node wallet fuzz)
rule "only lib/codec packs, unpacks or frees protobuf-c messages" \
    "$([ -n "$files" ] && grep -HnE '(__pack|__unpack|__free_unpacked|protobuf_c_message_(pack|unpack|free_unpacked))[[:space:]]*\(' $files | grep -v '^lib/codec\.c:')"
rule "only lib/ calls libsecp256k1" "$(inc 'secp256k1' consensus contracts node wallet)"
# OpenSSL: lib/ for crypto; node/p2p and node/tls for TLS (DESIGN §8).
rule "OpenSSL only in lib/ and the node's TLS code" \
    "$(inc 'openssl/' consensus contracts wallet node | grep -vE '^node/(p2p|tls)[^:]*:')"

[ "$fails" -eq 0 ]
