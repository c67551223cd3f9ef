#!/usr/bin/env bash
# hpkv under hpload: 4 connections for a few seconds, zero mismatches and
# zero errors, then a clean exit 0 on SIGTERM.
# Usage: load.sh HPKV HPLOAD [SECONDS]
set -euo pipefail
HPKV=$1 HPLOAD=$2 seconds=${3:-3}
source "$(dirname "$0")/lib.sh"

start_server --threads 4
"$HPLOAD" --port "$port" --connections 4 --seconds "$seconds" >"$work/load.out" 2>&1 ||
	{ cat "$work/load.out" >&2; fail "hpload reported errors or mismatches"; }
cat "$work/load.out"
grep -q '^mismatches: 0$' "$work/load.out" || fail "mismatches reported"
grep -q '^errors: 0$' "$work/load.out" || fail "errors reported"
requests=$(awk '/ requests, /{print $6}' "$work/load.out")
((requests > 1000)) || fail "only $requests requests in $seconds s"
stop_server
cat "$work/server.err"
echo PASS
