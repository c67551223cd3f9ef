# Shared by the samples tests: start hpkv on a free port, stop it, and make
# sure it never outlives a failing test.
# Usage: source lib.sh; needs HPKV and HPLOAD set by the caller.

work=$(mktemp -d "${TMPDIR:-/tmp}/hp-samples.XXXXXX")
server_pid=

cleanup() {
	if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill -KILL "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	if [[ -s $work/server.err ]]; then
		echo "--- server stderr" >&2
		cat "$work/server.err" >&2
	fi
	exit 1
}

# start_server [hpkv args...]: sets $port and $server_pid.
start_server() {
	# Truncate here, not in the child: a port line left by an earlier
	# server must not be read before the new one has started.
	: >"$work/server.out"
	: >"$work/server.err"
	"$HPKV" --port 0 "$@" >>"$work/server.out" 2>>"$work/server.err" &
	server_pid=$!
	port=
	for _ in $(seq 100); do
		if read -r word port <"$work/server.out" 2>/dev/null && [[ $word == port && -n $port ]]; then
			return 0
		fi
		kill -0 "$server_pid" 2>/dev/null || fail "hpkv exited before printing its port"
		sleep 0.05
	done
	fail "hpkv printed no port within 5 s"
}

# stop_server [SIG]: send SIG (default TERM), expect exit 0 within 5 s and
# the summary line.
stop_server() {
	local sig=${1:-TERM} rc=0
	kill -"$sig" "$server_pid"
	for _ in $(seq 100); do
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$server_pid" 2>/dev/null && fail "hpkv still running 5 s after SIG$sig"
	wait "$server_pid" || rc=$?
	server_pid=
	[[ $rc == 0 ]] || fail "hpkv exited with status $rc after SIG$sig"
	grep -q '^hpkv: stopped: ' "$work/server.err" || fail "no shutdown summary after SIG$sig"
}

# send hpload-args...: hpload against the running server.
send() {
	"$HPLOAD" --port "$port" "$@"
}
