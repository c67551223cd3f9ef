#!/usr/bin/env bash
# hpkv stops cleanly (exit 0, summary line) on SIGTERM and on SIGINT while
# clients are connected: one idle, one half-way through a line, and a load
# client in full swing. The load client must notice and stop too.
# Usage: shutdown.sh HPKV HPLOAD
set -euo pipefail
HPKV=$1 HPLOAD=$2
source "$(dirname "$0")/lib.sh"
load_pid=
trap 'if [[ -n $load_pid ]]; then kill "$load_pid" 2>/dev/null || true; fi; cleanup' EXIT

stop_with() { # SIGNAL
	start_server --threads 2
	exec 3<>"/dev/tcp/127.0.0.1/$port" # idle
	exec 4<>"/dev/tcp/127.0.0.1/$port"
	printf 'SET half' >&4 # no newline yet
	"$HPLOAD" --port "$port" --connections 2 --seconds 20 >"$work/load.out" 2>&1 &
	load_pid=$!
	sleep 0.5
	stop_server "$1"
	# The load client sees its connections drop: an error, exit 1, promptly.
	local rc=0
	timeout 10 tail --pid="$load_pid" -f /dev/null || fail "hpload still running after the server stopped"
	wait "$load_pid" || rc=$?
	load_pid=
	[[ $rc == 1 ]] || { cat "$work/load.out" >&2; fail "hpload exited $rc when the server went away"; }
	exec 3>&- 4>&-
	echo "ok SIG$1"
}

stop_with TERM
stop_with INT
echo PASS
