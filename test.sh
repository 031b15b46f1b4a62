#!/bin/bash
# Installs what is missing, then runs the named stages of pop3d's tests,
# each building what it needs; with no stage named, every stage in the
# order below.  That is what CI runs (.ci/run).
#
#   ./test.sh                   every stage
#   ./test.sh asan valgrind     just those two (always in the order below)
#   ./test.sh --help            the stages and what each proves
#   ./test.sh --suite integration
#   ./test.sh notls --suite unit
#
# Arguments from the first that starts with "-" go to meson test, in
# place of the stage's own choice of suites, in the stages that run meson
# test (tests, asan, valgrind, notls); with such arguments and no stage
# named, the stages are tests and asan.  FUZZ_SECONDS (default 40) is how
# long the fuzz stage runs each target; 0 skips it.
set -euo pipefail
cd "$(dirname "$0")"

# The stages, in the order they run.  Each stage_NAME function below
# says what it proves and why it comes where it does.
stages=(tests asan valgrind notls fuzz bench)
declare -A summary=(
	[tests]='build-ci/ (werror, TLS): every meson suite'
	[asan]='build-asan/ (ASan, UBSan): unit, transcript, integration, fuzz'
	[valgrind]='build-ci/ under memcheck: unit, transcript, fuzz, TLS'
	[notls]='build-notls/ (no OpenSSL): unit, transcript'
	[fuzz]='build-fuzz/ (clang, libFuzzer): each target FUZZ_SECONDS'
	[bench]='bench/run --quick against build-ci/pop3d'
)

usage() {
	echo "usage: ./test.sh [STAGE...] [MESON-TEST-ARGUMENT...]"
	echo "With no stage, every stage, in this order:"
	for s in "${stages[@]}"; do
		printf '  %-9s %s\n' "$s" "${summary[$s]}"
	done
}

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

# mtest DIR [OPTIONS...] -- SUITE-ARGUMENTS...: meson test in DIR with
# the options, and the stage's own suites unless ./test.sh was given
# meson test arguments, which then replace them.
mtest() {
	local dir=$1 opts=()
	shift
	while [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	if [ ${#extra[@]} -gt 0 ]; then
		meson test -C "$dir" --print-errorlogs "${opts[@]}" "${extra[@]}"
	else
		meson test -C "$dir" --print-errorlogs "${opts[@]}" "$@"
	fi
}

ci() {
	setup build-ci -Dwerror=true -Dtests=enabled -Dtls=enabled
}

# tests: the release configuration with warnings as errors passes every
# suite (unit, transcript, integration, crash, fuzz replays, measured
# limits, deployment).  First: the cheapest full verdict, and it builds
# build-ci/, which valgrind and bench reuse.
stage_tests() {
	ci
	mtest build-ci --
}

# asan: no memory error or undefined behaviour on the unit, transcript,
# integration and fuzz paths; any report fails (-fno-sanitize-recover).
# Not crash, limits or deploy: sanitizers and strace, rlimits or
# seccomp filters do not mix (tests/README.md).  After tests, so that a
# report is read against code that otherwise passes.
stage_asan() {
	setup build-asan -Dwerror=true -Dtests=enabled -Dtls=enabled \
	    -Db_sanitize=address,undefined -Db_lundef=false \
	    -Dc_args=-fno-sanitize-recover=all
	mtest build-asan -- --suite unit --suite transcript \
	    --suite integration --suite fuzz
}

# valgrind: no memcheck error and no leak in build-ci's test programs and
# in every pop3d they start ($POP3D_WRAPPER), including the real pop3d
# over TLS, implicit and STLS (integration's tls), which ASan's build
# cannot show for OpenSSL's own code.  After asan: ten times slower, so
# it runs once the quicker sanitizers pass.
stage_valgrind() {
	ci
	if [ ${#extra[@]} -gt 0 ]; then
		mtest build-ci --setup valgrind --
		return
	fi
	mtest build-ci --setup valgrind -- --suite unit --suite transcript \
	    --suite fuzz
	mtest build-ci --setup valgrind -- --suite integration tls
}

# notls: pop3d built without OpenSSL (tls-none.c) builds with warnings as
# errors and serves exactly as before.  Its own build folder, so it can
# come anywhere; here, once the TLS build is known good.
stage_notls() {
	setup build-notls -Dwerror=true -Dtests=enabled -Dtls=disabled
	mtest build-notls -- --suite unit --suite transcript
}

# fuzz: libFuzzer finds no new crash or failed check in FUZZ_SECONDS per
# target; findings are kept in tests/fuzz/crashes/.  Near the end: the
# longest stage, and a finding is easier to read once everything else
# passes.  run-fuzz builds what it runs: the targets, not the whole tree.
stage_fuzz() {
	if [ "${FUZZ_SECONDS:-40}" -le 0 ]; then
		echo "test.sh: fuzz: FUZZ_SECONDS=${FUZZ_SECONDS}, skipped"
		return
	fi
	CC=clang configure build-fuzz -Dfuzz=true -Dtests=enabled \
	    -Dtls=enabled -Db_lundef=false
	tests/fuzz/run-fuzz -t "${FUZZ_SECONDS:-40}" build-fuzz
}

# bench: the benchmark in its quick mode, so that it never rots: it
# fails on a wrong answer, never on a time.  Last: it measures nothing
# the other stages would need, and timing is fairest on a quiet machine.
stage_bench() {
	ci
	bench/run --quick --pop3d build-ci/pop3d
}

declare -A want=()
extra=()
while [ $# -gt 0 ]; do
	case $1 in
	-h|--help)
		usage
		exit 0
		;;
	-*)
		extra=("$@")
		break
		;;
	esac
	if [ -z "${summary[$1]+set}" ]; then
		echo "test.sh: unknown stage: $1" >&2
		usage >&2
		exit 100
	fi
	want[$1]=1
	shift
done
if [ ${#want[@]} -eq 0 ]; then
	if [ ${#extra[@]} -gt 0 ]; then
		want=([tests]=1 [asan]=1)
	else
		for s in "${stages[@]}"; do
			want[$s]=1
		done
	fi
fi

scripts/install-deps

for s in "${stages[@]}"; do
	if [ -n "${want[$s]:-}" ]; then
		echo "test.sh: stage $s"
		"stage_$s"
	fi
done
