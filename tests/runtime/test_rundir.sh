#!/usr/bin/env bash
# The runtime cannot make its control socket: a run directory under a
# regular file (mkdir fails even for root), and a run directory whose
# socket path is longer than a Unix socket address. The process runs on
# unharmed, says so once on its stderr with the path and the reason, and
# `hotpatch list` fails with one line saying it has no control socket and
# why. A process started with HOTPATCH_NO_LISTEN=1 is told apart.
set -euo pipefail
work=$1
source "$(dirname "$0")/lib.sh"
begin_work

build_target target
uid=$(id -u)

# start_unlistening NAME RUNDIR [env...]: the target with HOTPATCH_RUNDIR
# set to RUNDIR, its stderr in NAME.err; sets $pid once it computes.
start_unlistening() {
	local name=$1 rundir=$2
	shift 2
	rm -f "$name.state" "$name.err"
	env HOTPATCH_RUNDIR="$rundir" "$@" ./target "$name.state" 2 2>"$name.err" &
	pid=$!
	pids+=("$pid")
	disown "$pid"
	expect_state "$name.state" "3 2"
}

# still_running NAME: the engine keeps computing (its call count grows).
still_running() {
	local first now
	first=$(cut -d' ' -f3 "$1.state")
	for _ in $(seq 250); do
		alive "$pid"
		now=$(cut -d' ' -f3 "$1.state" 2>/dev/null || echo "$first")
		((now > first)) && return 0
		sleep 0.02
	done
	fail "$1: the engine stopped computing"
}

# said_once NAME REGEX: its stderr is exactly one line, matching REGEX.
said_once() {
	local err
	err=$(cat "$1.err")
	[[ $(wc -l <"$1.err") -eq 1 ]] || fail "$1: stderr is not one line: $err"
	[[ $err =~ $2 ]] || fail "$1: stderr '$err' does not match /$2/"
	note "$1 said: $err"
}

# ---- the run directory's parent is a regular file ----
echo "not a directory" >plain
bad=$work/plain/run
start_unlistening notdir "$bad"
said_once notdir "^hotpatch: not listening for patches: cannot create socket directory '$bad/hotpatch-$uid': Not a directory; the process runs on"
still_running notdir
[[ ! -e $HOTPATCH_RUNDIR/hotpatch-$uid/$pid.sock ]] || fail "a socket appeared elsewhere"
expect_fail "list, run directory under a file" \
	"^hotpatch: process $pid has no control socket at $bad/hotpatch-$uid/$pid.sock \('$work/plain' is not a directory\): its runtime could not create it and said why on its stderr at start$" \
	env HOTPATCH_RUNDIR="$bad" "$H" list "$pid"
expect_fail "status, run directory under a file" "process $pid has no control socket" \
	env HOTPATCH_RUNDIR="$bad" "$H" status "$pid"
# the CLI looking in another run directory than the process: said so
expect_fail "list, another run directory" \
	"^hotpatch: process $pid has no control socket at $HOTPATCH_RUNDIR/hotpatch-$uid/$pid.sock \('$HOTPATCH_RUNDIR/hotpatch-$uid': No such file or directory\): it runs with HOTPATCH_RUNDIR=$bad, this command with $HOTPATCH_RUNDIR$" \
	"$H" list "$pid"
still_running notdir
said_once notdir "not listening for patches" # still the one line
kill "$pid"

# ---- a socket path longer than sun_path (108 bytes) ----
long=$work/$(printf 'd%.0s' $(seq 120))
mkdir -p "$long"
start_unlistening toolong "$long"
said_once toolong "^hotpatch: not listening for patches: socket directory '$long/hotpatch-$uid' is too long for a socket path \([0-9]+ bytes at most, with the socket's name\); the process runs on"
still_running toolong
[[ -z $(ls -A "$long") ]] || fail "the runtime made something under a path it cannot use: $(ls -A "$long")"
expect_fail "list, path too long" \
	"^hotpatch: process $pid has no control socket at $long/hotpatch-$uid/$pid.sock \(the path is [0-9]+ bytes, a socket address holds at most 107\): its runtime could not create it" \
	env HOTPATCH_RUNDIR="$long" "$H" list "$pid"
kill "$pid"

# ---- told not to listen: no message from the process, and the CLI says why ----
start_unlistening nolisten "$HOTPATCH_RUNDIR" HOTPATCH_NO_LISTEN=1
[[ ! -s nolisten.err ]] || fail "HOTPATCH_NO_LISTEN=1 printed: $(cat nolisten.err)"
expect_fail "list, HOTPATCH_NO_LISTEN" \
	"^hotpatch: process $pid has no control socket: it was started with HOTPATCH_NO_LISTEN=1$" \
	"$H" list "$pid"
kill "$pid"

# ---- and a process that can listen still does, in the same run ----
start_target target "$work/ok.state"
"$H" list "$pid" | grep -q "no patches applied" || fail "list of a listening target"
echo "PASS: rundir"
