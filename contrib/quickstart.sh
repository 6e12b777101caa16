#!/bin/sh
# Hallmark quickstart: install what is missing, build, start a local
# 4-validator consortium and walk through the manufacturing story.
#
# Status: the consortium demo arrives with the node and wallet issues. Until
# then this script installs dependencies and builds, then says so plainly.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/contrib/install-deps.sh" --check >/dev/null 2>&1 || "$top/contrib/install-deps.sh"
cd "$top"
./autogen.sh >/dev/null
mkdir -p build && cd build
[ -f Makefile ] || ../configure --quiet
make -j"$(nproc)" >/dev/null
echo "quickstart: built in $top/build."
echo "quickstart: the 4-validator consortium and the manufacturing story arrive with the node (hallmarkd) and the wallet; not available yet."
