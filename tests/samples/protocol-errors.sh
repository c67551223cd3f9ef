#!/usr/bin/env bash
# Bad requests get an ERR reply; the connection and the server go on and
# nothing stored is lost.
# Usage: protocol-errors.sh HPKV HPLOAD
set -euo pipefail
HPKV=$1 HPLOAD=$2
source "$(dirname "$0")/lib.sh"

start_server --threads 2

# expect "REQUEST"... = "REPLY"...: the requests go over one connection.
check() {
	local -a reqs=() want=()
	while [[ $1 != = ]]; do reqs+=(--send "$1"); shift; done
	shift
	want=("$@")
	local got
	got=$(send "${reqs[@]}") || fail "hpload --send failed for: ${reqs[*]:0:6}"
	if [[ $got != "$(printf '%s\n' "${want[@]}")" ]]; then
		printf 'want:\n%s\ngot:\n%s\n' "$(printf '%s\n' "${want[@]}")" "$got" | cut -c1-200 >&2
		fail "wrong replies"
	fi
}

long_key=$(head -c 300 /dev/zero | tr '\0' k)
long_value=$(head -c 65537 /dev/zero | tr '\0' v)
long_line=$(head -c 100000 /dev/zero | tr '\0' x)
max_value=$(head -c 65535 /dev/zero | tr '\0' m)

check "SET keep1 first value" "INCR count 7" "SET big $max_value" = OK "VALUE 7" OK

# Every bad request on one connection, each followed by a good one.
check "FROBNICATE x" PING \
	"GET $long_key" PING \
	"SET $long_key v" PING \
	"SET keep1 $long_value" PING \
	"INCR count 12abc" PING \
	"INCR count 99999999999999999999" PING \
	"INCR keep1" PING \
	"$long_line" PING \
	"GET" "SET keep1" "VERSION extra" "" "   " PING \
	= "ERR unknown command" PONG \
	"ERR key too long" PONG \
	"ERR key too long" PONG \
	"ERR value too long" PONG \
	"ERR not a number" PONG \
	"ERR not a number" PONG \
	"ERR value is not an integer" PONG \
	"ERR line too long" PONG \
	"ERR wrong number of arguments" "ERR wrong number of arguments" \
	"ERR wrong number of arguments" "ERR empty request" "ERR empty request" PONG

# A fresh connection sees everything stored before, unchanged.
check "GET keep1" "GET count" "GET big" "EXISTS big" = "VALUE first value" "VALUE 7" \
	"VALUE $max_value" "VALUE 1"

# A client that vanishes mid-line does not disturb the server.
printf 'SET half' >"$work/half"
timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; cat '$work/half' >&3" || true
check "GET keep1" = "VALUE first value"

stop_server
echo PASS
