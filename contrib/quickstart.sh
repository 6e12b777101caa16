#!/bin/bash
# Hallmark quickstart: install what is missing, build, start a local
# 4-validator consortium on 127.0.0.1 and walk through the manufacturing
# story with the real tools (hallmarkd, hallmark-wallet, hallmark-audit).
#
# Usage: contrib/quickstart.sh [--dir DIR] [--no-build] [--builddir DIR]
#        contrib/quickstart.sh --down [--dir DIR]
#
#   --dir DIR       where the network, keystore and outputs go (default: a new
#                   temporary directory, printed at the end). A DIR made by an
#                   earlier run is stopped and wiped first.
#   --no-build      skip installing dependencies and building
#   --builddir DIR  use (and build in) DIR instead of <source>/build
#                   ($HM_BUILDDIR is used when set)
#   --down          stop the network the last run started (or the one in --dir)
#   -h, --help      this text
#
# Re-running starts a fresh network; the previous one is stopped first. The
# last run's directory is recorded in $HM_QUICKSTART_LAST (default
# ~/.hallmark/quickstart.last) so that --down finds it.
# Exit status: 0 the story ran and every verdict was the expected one,
# 1 a step did not give the expected result, 2 usage or setup error.
set -eu -o pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
me=quickstart
t_start=$(date +%s)

usage() { awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; }
die() { echo "$me: error: $*" >&2; exit 2; }

dir=
down=
build=1
builddir=${HM_BUILDDIR:-$top/build}
lastfile=${HM_QUICKSTART_LAST:-$HOME/.hallmark/quickstart.last}
while [ $# -gt 0 ]; do
    case "$1" in
        --dir) [ $# -ge 2 ] || die "--dir needs a directory"; dir=$2; shift ;;
        --no-build) build= ;;
        --builddir) [ $# -ge 2 ] || die "--builddir needs a directory"; builddir=$2; shift ;;
        --down) down=1 ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
    shift
done
case "$builddir" in /*) ;; *) builddir="$(pwd)/$builddir" ;; esac
if [ -n "$dir" ]; then
    case "$dir" in /*) ;; *) dir="$(pwd)/$dir" ;; esac
fi

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
    B=$(printf '\033[1m'); G=$(printf '\033[32m'); R=$(printf '\033[31m')
    Y=$(printf '\033[33m'); D=$(printf '\033[2m'); N=$(printf '\033[0m')
else
    B=; G=; R=; Y=; D=; N=
fi
step() { printf '\n%s==>%s %s%s%s\n' "$B$G" "$N" "$B" "$*" "$N"; }
say() { printf '    %s\n' "$*"; }

devnet() { "$top/contrib/devnet.sh" "$@" --builddir "$builddir"; }

stop_dir() { # stop the network of a quickstart directory, if it runs
    if [ -f "$1/net/devnet.state" ]; then
        devnet down --dir "$1/net" | sed -n 's/^    /    /p'
    fi
}

# ------------------------------------------------------------------ --down
if [ -n "$down" ]; then
    if [ -z "$dir" ]; then
        [ -f "$lastfile" ] || { echo "$me: no earlier run recorded in $lastfile"; exit 0; }
        dir=$(cat "$lastfile")
    fi
    step "Stop the quickstart network in $dir"
    if [ -f "$dir/net/devnet.state" ]; then
        stop_dir "$dir"
    else
        say "nothing running there"
    fi
    say "its files stay in $dir (remove them with: rm -rf $dir)"
    exit 0
fi

# ------------------------------------------------------------------ build
if [ -n "$build" ]; then
    step "Install missing dependencies (apt) and build in $builddir"
    "$top/contrib/install-deps.sh" --check >/dev/null 2>&1 || "$top/contrib/install-deps.sh" ||
        die "could not install the dependencies (run contrib/install-deps.sh by hand)"
    [ -x "$top/configure" ] || (cd "$top" && ./autogen.sh >/dev/null 2>&1) || die "autogen.sh failed"
    mkdir -p "$builddir"
    (
        cd "$builddir"
        [ -f Makefile ] || "$top/configure" --quiet
        make -j"$(nproc 2>/dev/null || echo 2)" >make.log 2>&1
    ) || { tail -30 "$builddir/make.log" >&2 2>/dev/null; die "build failed (see $builddir/make.log)"; }
    say "built: hallmarkd, hallmark-wallet$([ -x "$builddir/wallet/hallmark-audit" ] && echo ", hallmark-audit")"
fi
HALLMARKD=$builddir/node/hallmarkd
WALLET=$builddir/wallet/hallmark-wallet
AUDIT=$builddir/wallet/hallmark-audit
[ -x "$HALLMARKD" ] && [ -x "$WALLET" ] || die "no binaries in $builddir (run without --no-build)"
command -v python3 >/dev/null || die "python3 is needed"

# ------------------------------------------------------------------ directory
# A fresh network every run: stop the previous one first.
if [ -f "$lastfile" ]; then
    prev=$(cat "$lastfile")
    if [ -n "$prev" ] && [ -f "$prev/.hallmark-quickstart" ] && [ "$prev" != "$dir" ]; then
        if [ -f "$prev/net/devnet.state" ]; then
            step "Stop the network of the previous run ($prev)"
            stop_dir "$prev"
        fi
        # a temporary directory the previous run made for itself goes too
        if [ -f "$prev/.hallmark-quickstart-tmp" ]; then rm -rf "$prev"; fi
    fi
fi
if [ -n "$dir" ]; then
    if [ -f "$dir/.hallmark-quickstart" ]; then
        if [ -f "$dir/net/devnet.state" ]; then
            step "Stop the network of the previous run in $dir"
            stop_dir "$dir"
        fi
        rm -rf "$dir"
    elif [ -d "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
        die "$dir is not empty and was not made by the quickstart: choose another --dir"
    fi
    mkdir -p "$dir"
    : >"$dir/.hallmark-quickstart"
else
    dir=$(mktemp -d "${TMPDIR:-/tmp}/hallmark-quickstart.XXXXXX")
    : >"$dir/.hallmark-quickstart"
    : >"$dir/.hallmark-quickstart-tmp"
fi
mkdir -p "$(dirname "$lastfile")"
echo "$dir" >"$lastfile"
mkdir -p "$dir/demo" "$dir/out"
cp "$top"/contrib/demo/*.yaml "$top"/contrib/demo/*.txt "$dir/demo/"
cd "$dir"

# ------------------------------------------------------------------ network
step "Start a 4-validator consortium on 127.0.0.1 (init, genesis, run) in $dir/net"
devnet up -n 4 --dir "$dir/net" | sed 's/^/    /'

# The wallet talks to validator 0; the auditor asks validator 2 (any
# validator gives the same signed answers). Demo keystore: one passphrase for
# every key, in a 0600 file. Never do this with real keys.
node_url() { sed -n "$(($1 + 1))p" net/devnet.state | cut -d' ' -f4; }
export HALLMARK_WALLET_DIR=$dir/net/wallet
export HALLMARK_NODE
HALLMARK_NODE=$(node_url 0)
export HALLMARK_RPC_TOKEN
HALLMARK_RPC_TOKEN=$(cut -d: -f2 net/n0/.cookie)
export HALLMARK_PASSPHRASE
HALLMARK_PASSPHRASE=$(head -1 net/passphrase)
AUDIT_NODE=$(node_url 2)
AUDIT_COOKIE=net/n2/.cookie

failures=0
last_height=0
out=
rc=0

# Print a command as it could be typed, then run it; its output lands in $out.
show() {
    local s="" a
    for a in "$@"; do
        case "$a" in
            '' | *[[:space:]\"\'\$\&\;\|\<\>\(\)\*\?]*) s="$s \"$a\"" ;;
            *) s="$s $a" ;;
        esac
    done
    printf '    %s$%s%s\n' "$D" "$s" "$N"
}
run() {
    show "$@"
    local prog=$1
    shift
    case "$prog" in
        hallmark-wallet) prog=$WALLET ;;
        hallmark-audit) prog=$AUDIT ;;
        hallmarkd) prog=$HALLMARKD ;;
    esac
    set +e
    out=$("$prog" "$@" 2>&1)
    rc=$?
    set -e
}
field() { printf '%s\n' "$out" | sed -n "s/^$1:\{0,1\}  *//p" | head -1; }
fail() {
    printf '    %sUNEXPECTED:%s %s\n' "$R" "$N" "$*"
    failures=$((failures + 1))
}
abort() {
    printf '%s\n' "$out" | sed 's/^/    | /'
    printf '%s%s: %s%s\n' "$R" "$me" "$*" "$N" >&2
    echo "$me: the network keeps running; stop it with: $0 --down" >&2
    exit 1
}

# tx EXPECTED_RESULT hallmark-wallet ARGS...: submit with --wait and show the
# ids it creates and its result. EXPECTED_RESULT is HM_R_OK or a refusal.
tx() {
    local want=$1 f v code h
    shift
    run "$@" --wait
    code=$(field result | cut -d' ' -f1)
    if [ "$code" = HM_R_OK ]; then # the ids it created (a refused tx creates none)
        for f in did licence_id cert_id; do
            v=$(field "$f")
            if [ -n "$v" ]; then say "$f $v"; fi
        done
    fi
    h=$(field height)
    case "$h" in
        '' | *[!0-9]*) ;;
        *) if [ "$h" -gt "$last_height" ]; then last_height=$h; fi ;;
    esac
    if [ -z "$code" ]; then
        abort "the wallet gave no result (exit $rc)"
    fi
    if [ "$code" = "$want" ]; then
        if [ "$code" = HM_R_OK ]; then
            say "committed at height $h: ${G}HM_R_OK$N"
        else
            say "committed at height $h: ${Y}$(field result)$N"
            say "refused as expected: the ledger enforces it, the tx had no effect"
        fi
    else
        fail "result $(field result), expected $want"
        abort "step failed"
    fi
}

GID_designer= GID_acme= GID_lyon= GID_inspector= GID_integrator= # set by register
register() { # KEY NAME KIND COUNTRY [--external-id X]...
    local key=$1 name=$2 kind=$3 cc=$4
    shift 4
    "$WALLET" key create "$key" >/dev/null
    tx HM_R_OK hallmark-wallet identity register --key "$key" --name "$name" --kind "$kind" \
        --country "$cc" "$@"
    printf -v "GID_$key" '%s' "$(field did)"
}

# Wait until NODE_URL's height is at least $1 (a block with txs is followed by
# one more block, which certifies its state; queries see that state).
wait_height() {
    local want=$1 url=$2 cookie=$3 i h
    for i in $(seq 1 300); do
        h=$("$WALLET" status --node "$url" --rpc-cookie "$cookie" --json 2>/dev/null |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["height"])' 2>/dev/null || echo -1)
        [ "$h" -ge "$want" ] && return 0
        sleep 0.1
    done
    die "$url did not reach height $want in 30 s"
}

serials() { # PREFIX FROM TO FILE
    local i
    : >"$4"
    for i in $(seq "$2" "$3"); do printf '%s-%06d\n' "$1" "$i" >>"$4"; done
}

# ------------------------------------------------------------------ story
step "Each organisation creates a key (demo keystore $dir/net/wallet, passphrase in net/passphrase, mode 0600: DEMO ONLY)"
say "and registers its Global ID; new identities are PENDING until the consortium accredits them"
register designer "Aerodesign Studio GmbH" designer DE --external-id lei:529900T8BM49AURSDO55
register acme "Acme Additive GmbH" manufacturer DE --external-id gs1-gln:4012345000009
register lyon "Atelier Lyonnais de Fabrication SAS" manufacturer FR --external-id gs1-gln:3012345000004
register inspector "Nordic Test & Certification AS" inspector NO --external-id lei:5967007LIEEXZX4LPK21
register integrator "Nordwind Drones AB" manufacturer SE --external-id gs1-gln:7312345000006

step "The consortium accredits them: a designer, two manufacturers at two sites, an inspector, an integrator"
tx HM_R_OK hallmark-wallet identity accredit --key consortium --gid "$GID_designer" --role designer \
    --capability process:SLM --valid-until 2030-12-31
tx HM_R_OK hallmark-wallet identity accredit --key consortium --gid "$GID_acme" --role manufacturer \
    --capability process:SLM --capability site:DE-MUC-1 --capability std:ISO9001 --valid-until 2030-12-31
tx HM_R_OK hallmark-wallet identity accredit --key consortium --gid "$GID_lyon" --role manufacturer \
    --capability process:SLM --capability site:FR-LYS-2 --capability std:EN9100 --valid-until 2030-12-31
tx HM_R_OK hallmark-wallet identity accredit --key consortium --gid "$GID_inspector" --role inspector \
    --capability std:ISO17025 --valid-until 2030-12-31
tx HM_R_OK hallmark-wallet identity accredit --key consortium --gid "$GID_integrator" --role manufacturer \
    --capability process:assembly --capability site:SE-GOT-1 --valid-until 2030-12-31

step "The designer registers the bracket recipe: its hash is the SHA-256 of the recipe document"
sed -n '4,9p' demo/bracket-ti64-slm.recipe.yaml | sed 's/^/    | /'
say "| ... (material Ti-6Al-4V, SLM process parameters, acceptance criteria)"
RECIPE=$(sha256sum demo/bracket-ti64-slm.recipe.yaml | cut -d' ' -f1)
tx HM_R_OK hallmark-wallet recipe register --key designer --document demo/bracket-ti64-slm.recipe.yaml \
    --version 2.1 --title "Engine mount bracket AERO-BRKT-7731" --material "Ti-6Al-4V Grade 23" \
    --process SLM --document-uri https://aerodesign.example/recipes/AERO-BRKT-7731-2.1
say "recipe $RECIPE"
step "... and the arm assembly recipe the brackets go into"
ARM_RECIPE=$(sha256sum demo/arm-assembly.recipe.yaml | cut -d' ' -f1)
tx HM_R_OK hallmark-wallet recipe register --key designer --document demo/arm-assembly.recipe.yaml \
    --version 1.0 --title "Motor arm assembly NW-ARM-2040" --process assembly
say "recipe $ARM_RECIPE"

step "The designer licenses the bracket to Acme (100 units, Munich) and to Lyon (40 units, Lyon)"
tx HM_R_OK hallmark-wallet licence grant --key designer --recipe "$RECIPE" --licensee "$GID_acme" \
    --max-units 100 --site DE-MUC-1 --valid-until 2027-12-31
LIC_acme=$(field licence_id)
tx HM_R_OK hallmark-wallet licence grant --key designer --recipe "$RECIPE" --licensee "$GID_lyon" \
    --max-units 40 --site FR-LYS-2 --valid-until 2027-12-31
LIC_lyon=$(field licence_id)
step "... and the arm assembly to the integrator Nordwind (10 units, Gothenburg)"
tx HM_R_OK hallmark-wallet licence grant --key designer --recipe "$ARM_RECIPE" --licensee "$GID_integrator" \
    --max-units 10 --site SE-GOT-1
LIC_nw=$(field licence_id)

step "Acme mints a certified batch: 50 brackets ACME-BRKT-000001..50 (50 of its 100 units)"
serials ACME-BRKT 1 50 out/acme-batch-0412.serials
tx HM_R_OK hallmark-wallet certificate mint --key acme --batch ACME-B2026-0412 --recipe "$RECIPE" \
    --licence "$LIC_acme" --serials-file out/acme-batch-0412.serials --site DE-MUC-1 \
    --result tensile=952MPa:pass --result porosity=0.06%:pass --standard "ASTM F3001-14"
CERT_acme=$(field cert_id)

step "Lyon mints a certified batch: 30 brackets LYON-BRKT-000001..30 (30 of its 40 units)"
serials LYON-BRKT 1 30 out/lyon-batch-0415.serials
tx HM_R_OK hallmark-wallet certificate mint --key lyon --batch LYON-B2026-0415 --recipe "$RECIPE" \
    --licence "$LIC_lyon" --serials-file out/lyon-batch-0415.serials --site FR-LYS-2 \
    --result tensile=931MPa:pass --result porosity=0.11%:pass --standard "ASTM F3001-14"
CERT_lyon=$(field cert_id)

step "Lyon tries 20 more: beyond its 40-unit licence, so the ledger refuses the batch"
serials LYON-BRKT 31 50 out/lyon-batch-0416.serials
tx HM_R_LICENCE_EXHAUSTED hallmark-wallet certificate mint --key lyon --batch LYON-B2026-0416 \
    --recipe "$RECIPE" --licence "$LIC_lyon" --serials-file out/lyon-batch-0416.serials --site FR-LYS-2
wait_height $((last_height + 1)) "$HALLMARK_NODE" net/n0/.cookie
run hallmark-wallet query licence "$LIC_lyon"
say "$(printf '%s\n' "$out" | grep '^remaining')"

step "The independent inspector co-signs both batches: SELF_DECLARED -> CERTIFIED"
tx HM_R_OK hallmark-wallet certificate co-sign --key inspector --cert "$CERT_acme" --verdict pass \
    --report-file demo/inspection-report-A.txt
tx HM_R_OK hallmark-wallet certificate co-sign --key inspector --cert "$CERT_lyon" --verdict pass \
    --report-file demo/inspection-report-B.txt

step "Nordwind mints 2 arm frames NW-ARM-000001..2 (an assembly's parent must be certified) and the inspector co-signs"
tx HM_R_OK hallmark-wallet certificate mint --key integrator --batch NW-B2026-0007 --recipe "$ARM_RECIPE" \
    --licence "$LIC_nw" --serial NW-ARM-000001 --serial NW-ARM-000002 --site SE-GOT-1 \
    --result proof_load=2150N:pass --result alignment=0.12deg:pass
CERT_nw=$(field cert_id)
tx HM_R_OK hallmark-wallet certificate co-sign --key inspector --cert "$CERT_nw" --verdict pass

step "Parts change hands: Acme ships 3 brackets and Lyon 1 bracket to Nordwind"
tx HM_R_OK hallmark-wallet part transfer --key acme --serial ACME-BRKT-000001 --serial ACME-BRKT-000002 \
    --serial ACME-BRKT-000003 --to "$GID_integrator"
tx HM_R_OK hallmark-wallet part transfer --key lyon --serial LYON-BRKT-000001 --to "$GID_integrator"

step "Nordwind assembles two arms: NW-ARM-000001 from two Acme brackets, NW-ARM-000002 from an Acme and a Lyon bracket"
tx HM_R_OK hallmark-wallet part assemble --key integrator --parent NW-ARM-000001 \
    --child ACME-BRKT-000001 --child ACME-BRKT-000002
tx HM_R_OK hallmark-wallet part assemble --key integrator --parent NW-ARM-000002 \
    --child ACME-BRKT-000003 --child LYON-BRKT-000001

step "Lyon finds porosity in a re-check and recalls its batch: the certificate is revoked"
tx HM_R_OK hallmark-wallet certificate revoke --key lyon --cert "$CERT_lyon" \
    --reason "recall: CT re-check of coupon C-0415-2 shows porosity 0.31% (limit 0.2%)"

step "Wait for the block that certifies the last change (audits read the certified state)"
wait_height $((last_height + 1)) "$AUDIT_NODE" "$AUDIT_COOKIE"
say "validator 2 (which the auditor asks) is at height >= $((last_height + 1))"

# ------------------------------------------------------------------ audit
have_audit=
[ -x "$AUDIT" ] && have_audit=1

# audit SERIAL EXPECTED [ARGS...]: verify a part against the validators'
# signatures; EXPECTED is a verdict or VERDICT|VERDICT.
audit() {
    local serial=$1 want=$2 verdict
    shift 2
    run hallmark-audit part "$serial" --node "$AUDIT_NODE" --rpc-cookie "$AUDIT_COOKIE" \
        --genesis net/genesis.json "$@"
    [ "$rc" -le 1 ] || abort "hallmark-audit failed (exit $rc)"
    audit_excerpt
    # the tool's last "verdict: X" line, else the first verdict word it prints
    verdict=$(printf '%s\n' "$out" | sed -n 's/^verdict: *\([A-Z]*\).*/\1/p' | tail -1)
    [ -n "$verdict" ] || verdict=$(printf '%s\n' "$out" | grep -owE 'VALID|INVALID|RECALLED' | head -1 || true)
    case "|$want|" in
        *"|$verdict|"*) say "auditor verdict: $serial ${B}$verdict$N (exit $rc)" ;;
        *)
            say "auditor verdict: $serial ${R}${verdict:-none}$N (exit $rc)"
            fail "expected $want"
            ;;
    esac
}
# the report's key lines: what was verified, the recipe document check, reasons
audit_excerpt() {
    printf '%s\n' "$out" | grep -E '^(hallmark-audit:|verified|reasons:|  - )|document (matches|DIFFERS)' |
        sed -e 's/^ *"[^"]*" [^ ]*, owner [^;]*; document /recipe document /' -e 's/^/    | /' || true
}

node_says() { # SERIAL: what the node reports (not verified) when there is no auditor
    run hallmark-wallet query part "$1"
    say "the node says: $1 $(field 'effective status') (unverified: hallmark-audit checks the proofs)"
}

if [ -n "$have_audit" ]; then
    step "The auditor verifies a good Acme bracket against the validators' signatures and the recipe document"
    audit ACME-BRKT-000010 VALID --recipe-document demo/bracket-ti64-slm.recipe.yaml
    step "... a Lyon bracket from the recalled batch"
    audit LYON-BRKT-000005 RECALLED
    step "... the arm that contains a recalled Lyon bracket"
    audit NW-ARM-000002 "INVALID|RECALLED"
    step "... and the arm built from Acme brackets only"
    audit NW-ARM-000001 VALID

    step "The auditor exports NW-ARM-000001's provenance as one bundle and verifies it offline"
    run hallmark-audit bundle export NW-ARM-000001 -o out/NW-ARM-000001.bundle --node "$AUDIT_NODE" \
        --rpc-cookie "$AUDIT_COOKIE"
    [ "$rc" -eq 0 ] || abort "bundle export failed (exit $rc)"
    say "wrote out/NW-ARM-000001.bundle ($(wc -c <out/NW-ARM-000001.bundle) bytes)"
    run hallmark-audit verify out/NW-ARM-000001.bundle --genesis net/genesis.json
    audit_excerpt
    if [ "$rc" -eq 0 ]; then
        say "offline verdict: NW-ARM-000001 ${B}VALID$N (no node asked)"
    else
        fail "offline verification of the bundle failed (exit $rc)"
    fi

    step "... and writes its verified history as GS1 EPCIS 2.0 for the customer's traceability system"
    run hallmark-audit epcis NW-ARM-000001 --node "$AUDIT_NODE" --rpc-cookie "$AUDIT_COOKIE" \
        --genesis net/genesis.json -o out/NW-ARM-000001.epcis.jsonld
    if [ "$rc" -eq 0 ] && [ -s out/NW-ARM-000001.epcis.jsonld ]; then
        say "wrote out/NW-ARM-000001.epcis.jsonld ($(grep -c '"type": "[A-Za-z]*Event"' out/NW-ARM-000001.epcis.jsonld || true) events)"
    else
        fail "EPCIS export failed (exit $rc)"
    fi

    step "The provenance graph of NW-ARM-000002 as DOT$(command -v dot >/dev/null && echo ' and SVG')"
    run hallmark-audit part NW-ARM-000002 --node "$AUDIT_NODE" --rpc-cookie "$AUDIT_COOKIE" \
        --genesis net/genesis.json --dot out/NW-ARM-000002.dot
    if [ -s out/NW-ARM-000002.dot ]; then
        say "wrote out/NW-ARM-000002.dot ($(grep -c -- '->' out/NW-ARM-000002.dot || true) edges)"
        if command -v dot >/dev/null; then
            run dot -Tsvg out/NW-ARM-000002.dot -o out/NW-ARM-000002.svg
            if [ "$rc" -eq 0 ]; then say "wrote out/NW-ARM-000002.svg"; else fail "dot -Tsvg failed"; fi
        else
            say "graphviz not installed: apt-get install graphviz, then dot -Tsvg out/NW-ARM-000002.dot -o out/NW-ARM-000002.svg"
        fi
    else
        fail "no DOT graph written"
    fi
else
    step "The auditor's steps: ${Y}hallmark-audit not built yet$N"
    say "hallmark-audit not built yet ($AUDIT is missing): skipping the verified audits,"
    say "the bundle export/offline verification and the provenance graph."
    say "What the node reports instead (NOT verified against the validators' signatures):"
    node_says ACME-BRKT-000010
    node_says LYON-BRKT-000005
    node_says NW-ARM-000002
fi

# ------------------------------------------------------------------ summary
elapsed=$(($(date +%s) - t_start))
if [ "$failures" -eq 0 ]; then
    step "Done in ${elapsed} s: the consortium is still running"
else
    step "${R}Done in ${elapsed} s with $failures unexpected result(s)$N: the consortium is still running"
fi
say "directory   $dir"
say "datadirs    $dir/net/n0 .. n3   (logs: $dir/net/n*/hallmarkd.log)"
say "genesis     $dir/net/genesis.json"
say "keystore    $dir/net/wallet (demo passphrase in $dir/net/passphrase)"
say "outputs     $dir/out (serial lists$([ -n "$have_audit" ] && echo ', bundle, EPCIS, provenance graph'))"
say "node API    $HALLMARK_NODE (cookie $dir/net/n0/.cookie)"
say "try         . $dir/net/env.sh && hallmark-wallet query part ACME-BRKT-000010 --rpc-cookie \$HALLMARK_RPC_COOKIE"
say "status      $top/contrib/devnet.sh status --dir $dir/net"
say "stop        $0 --down"
[ "$failures" -eq 0 ]
