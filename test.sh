#!/bin/bash
# Installs what is missing, builds pop3d with warnings as errors in
# build-ci/ and runs every test (unit, transcript, integration).
# This is what CI runs (.ci/run).  Extra arguments go to meson test,
# e.g. ./test.sh --suite integration
set -euo pipefail
cd "$(dirname "$0")"

scripts/install-deps

opts=(-Dwerror=true -Dtests=enabled)
if [ -d build-ci/meson-private ]; then
	# Keep the build dir (fast rebuilds) unless it can't be reused.
	meson setup --reconfigure build-ci "${opts[@]}" >/dev/null ||
	    meson setup --wipe build-ci "${opts[@]}"
else
	meson setup build-ci "${opts[@]}"
fi
ninja -C build-ci
meson test -C build-ci --print-errorlogs "$@"
