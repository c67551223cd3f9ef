#!/usr/bin/env bash
# Wrong command lines: usage on stderr and exit 2; --help: usage, exit 0.
# Usage: cmdline.sh HPKV HPLOAD
set -euo pipefail
HPKV=$1 HPLOAD=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/hp-cmdline.XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=0

expect_status() {
	local want=$1 rc=0
	shift
	timeout 5 "$@" >"$work/out" 2>"$work/err" || rc=$?
	if [[ $rc != "$want" ]]; then
		echo "FAIL: '$*' exited $rc, want $want" >&2
		failed=1
	elif [[ $want == 2 ]] && ! grep -q usage "$work/err"; then
		echo "FAIL: '$*' printed no usage on stderr" >&2
		failed=1
	elif [[ $want == 0 ]] && ! grep -q usage "$work/out"; then
		echo "FAIL: '$*' printed no usage on stdout" >&2
		failed=1
	fi
}

expect_status 0 "$HPKV" --help
expect_status 2 "$HPKV"
expect_status 2 "$HPKV" --port
expect_status 2 "$HPKV" --port 65536
expect_status 2 "$HPKV" --port -1
expect_status 2 "$HPKV" --port 12x
expect_status 2 "$HPKV" --port 0 --threads 0
expect_status 2 "$HPKV" --port 0 --threads 1000
expect_status 2 "$HPKV" --port 0 --workers 0
expect_status 2 "$HPKV" --port 0 --workers 65
expect_status 2 "$HPKV" --port 0 --workers two
expect_status 2 "$HPKV" --port 0 --frobnicate
expect_status 2 "$HPKV" --port 0 extra

expect_status 0 "$HPLOAD" --help
expect_status 2 "$HPLOAD"
expect_status 2 "$HPLOAD" --port 0
expect_status 2 "$HPLOAD" --port abc
expect_status 2 "$HPLOAD" --port 1 --host example.com
expect_status 2 "$HPLOAD" --port 1 --host 10.0.0.1
expect_status 2 "$HPLOAD" --port 1 --connections 0
expect_status 2 "$HPLOAD" --port 1 --connections 100000
expect_status 2 "$HPLOAD" --port 1 --seconds 0
expect_status 2 "$HPLOAD" --port 1 --seconds -3
expect_status 2 "$HPLOAD" --port 1 --seconds 1e9
expect_status 2 "$HPLOAD" --port 1 --requests 0
expect_status 2 "$HPLOAD" --port 1 --seed x
expect_status 2 "$HPLOAD" --port 1 --bogus
expect_status 2 "$HPLOAD" --port 1 stray

# Well-formed, but nobody listens (port 1 on loopback): exit 1, not 2.
expect_status 1 "$HPLOAD" --port 1 --send PING
expect_status 1 "$HPLOAD" --port 1 --requests 10

((failed == 0)) || exit 1
echo PASS
