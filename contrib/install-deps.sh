#!/bin/sh
# Install every build and test dependency of Hallmark with apt (Debian 12).
# Idempotent: when everything is present it installs nothing and says so.
# Usage: contrib/install-deps.sh [--check]   (--check: only report, exit 1 if missing)
set -eu

PACKAGES="
build-essential autoconf automake libtool pkg-config
libsecp256k1-dev libleveldb-dev libprotobuf-c-dev protobuf-c-compiler
libevent-dev libssl-dev libjansson-dev libcmocka-dev
clang libclang-rt-14-dev
python3 curl openssl procps psmisc
"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "install-deps: all dependencies present"
    exit 0
fi
if [ "${1:-}" = "--check" ]; then
    echo "install-deps: missing:$missing"
    exit 1
fi

echo "install-deps: installing:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-deps: need root (or sudo) to run apt-get" >&2
        exit 2
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
echo "install-deps: done"
