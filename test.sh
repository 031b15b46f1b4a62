#!/bin/bash
# Installs what is missing, builds pop3d with warnings as errors and TLS
# in build-ci/ and runs every test (unit, transcript, integration, crash,
# fuzz replays, measured limits, deployment); then builds it again with
# ASan and UBSan in build-asan/ and runs the unit, transcript, integration
# and fuzz suites there, where any report fails; then runs build-ci's
# unit, transcript and fuzz suites and the TLS integration test again
# under valgrind, where any error or leak fails; then builds it without
# TLS in build-notls/ and runs the unit and transcript suites, which must
# pass as they are; then builds the libFuzzer targets with clang in
# build-fuzz/ and fuzzes each for FUZZ_SECONDS (default 40; 0 skips
# them), where any finding fails and is kept in tests/fuzz/crashes/;
# last, bench/run --quick against build-ci/pop3d.
# This is what CI runs (.ci/run).  Extra arguments go to both meson test
# runs, e.g. ./test.sh --suite integration, and skip valgrind and fuzzing.
set -euo pipefail
cd "$(dirname "$0")"

scripts/install-deps

# configure DIR OPTIONS...: configure DIR, reusing it when it can be.
configure() {
	local dir=$1
	shift
	if [ -d "$dir/meson-private" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null ||
		    meson setup --wipe "$dir" "$@"
	else
		meson setup "$dir" "$@"
	fi
}

# setup DIR OPTIONS...: configure DIR and build all of it.
setup() {
	configure "$@"
	ninja -C "$1"
}

setup build-ci -Dwerror=true -Dtests=enabled -Dtls=enabled
meson test -C build-ci --print-errorlogs "$@"

setup build-asan -Dwerror=true -Dtests=enabled -Dtls=enabled \
    -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args=-fno-sanitize-recover=all
if [ $# -gt 0 ]; then
	meson test -C build-asan --print-errorlogs "$@"
	exit 0
fi
meson test -C build-asan --print-errorlogs --suite unit --suite transcript \
    --suite integration --suite fuzz

meson test -C build-ci --setup valgrind --print-errorlogs --suite unit \
    --suite transcript --suite fuzz
# The real pop3d over TLS, implicit and STLS, under valgrind too.
meson test -C build-ci --setup valgrind --print-errorlogs --suite integration \
    tls

# Without OpenSSL pop3d must build and serve exactly as before.
setup build-notls -Dwerror=true -Dtests=enabled -Dtls=disabled
meson test -C build-notls --print-errorlogs --suite unit --suite transcript

if [ "${FUZZ_SECONDS:-40}" -gt 0 ]; then
	# run-fuzz builds what it runs: the targets, not the whole tree.
	CC=clang configure build-fuzz -Dfuzz=true -Dtests=enabled \
	    -Dtls=enabled -Db_lundef=false
	tests/fuzz/run-fuzz -t "${FUZZ_SECONDS:-40}" build-fuzz
fi

# The benchmark in its quick mode, so that it never rots: it fails on a
# wrong answer, never on a time.
bench/run --quick --pop3d build-ci/pop3d
