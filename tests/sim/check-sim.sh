#!/bin/sh
# make check entry of the consensus simulator: TAP from `pbft-sim --check`.
# HM_SOAK=1 runs the 100,000-seed soak instead of the 2,000-seed suite.
exec "${HM_BUILDDIR:-.}/tests/sim/pbft-sim" --check
