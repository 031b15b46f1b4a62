#!/bin/bash
# Installs what is missing, builds pop3d with warnings as errors in
# build-ci/ and runs every test (unit, transcript, integration, crash);
# then builds it again with ASan and UBSan in build-asan/ and runs the
# unit, transcript and integration suites there, where any report fails.
# This is what CI runs (.ci/run).  Extra arguments go to both meson test
# runs, e.g. ./test.sh --suite integration
set -euo pipefail
cd "$(dirname "$0")"

scripts/install-deps

# setup DIR OPTIONS...: configure DIR, reusing it when it can be.
setup() {
	local dir=$1
	shift
	if [ -d "$dir/meson-private" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null ||
		    meson setup --wipe "$dir" "$@"
	else
		meson setup "$dir" "$@"
	fi
	ninja -C "$dir"
}

setup build-ci -Dwerror=true -Dtests=enabled
meson test -C build-ci --print-errorlogs "$@"

setup build-asan -Dwerror=true -Dtests=enabled \
    -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args=-fno-sanitize-recover=all
if [ $# -eq 0 ]; then
	set -- --suite unit --suite transcript --suite integration
fi
meson test -C build-asan --print-errorlogs "$@"
