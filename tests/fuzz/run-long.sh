#!/bin/bash
# run-long.sh: fuzzes every target for hours, on every CPU, with the
# corpus kept between runs, so each run goes on where the last stopped.
#
#   tests/fuzz/run-long.sh [HOURS [TARGET...]]
#
# HOURS per target (default 1; fractions are fine: 0.25).  Builds the
# libFuzzer targets with clang in build-fuzz/ (as test.sh does), then
# runs tests/fuzz/run-fuzz with as many targets at once as there are
# CPUs, the corpus and logs in $FUZZ_WORK (default
# ~/.cache/pop3d-fuzz).  Findings land in tests/fuzz/crashes/TARGET/,
# and the exit status is 1 when there are any.  Record how long they
# ran clean in tests/fuzz/README.
set -euo pipefail
cd "$(dirname "$0")/../.."

hours=${1:-1}
[ $# -gt 0 ] && shift
secs=$(python3 -c "import sys; print(int(float(sys.argv[1]) * 3600))" "$hours")
work=${FUZZ_WORK:-$HOME/.cache/pop3d-fuzz}

if [ ! -d build-fuzz/meson-private ]; then
	CC=clang meson setup build-fuzz -Dfuzz=true -Dtests=enabled \
	    -Db_lundef=false
fi
mkdir -p "$work"
started=$(date -u '+%Y-%m-%d %H:%M UTC')
rc=0
tests/fuzz/run-fuzz -t "$secs" -j "$(nproc)" -w "$work" build-fuzz "$@" ||
    rc=$?
echo "started $started, $hours h a target, at $(git rev-parse --short HEAD \
    2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo '+changes')"
exit "$rc"
