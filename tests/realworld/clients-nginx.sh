#!/usr/bin/env bash
# The two request clients rows 7600ca028 and ede5623b1 depend on
# (proxyv2.py, h2c.py) and the listeners rw_nginx_row_conf adds, checked
# against the nginx OLD that the row realworld.clang.bcb41c919 built: a
# tree of late 2025, which has both fixes, so each request must come out
# as the fixed reply. The full rows need builds of old trees and run in
# bench-realworld; this keeps the clients honest in the default suite.
#  - proxy_v2: a 220-byte PROXY v2 header (TLV-padded) and a 40-byte one
#    each get the address they name; a header to the HTTP server does not;
#  - h2c: ':authority' with 'host' gets 200 over HTTP/2; the same bytes to
#    the PROXY port get no HTTP/2 answer.
# Usage: clients-nginx.sh ROOT ROW_WORK WORK
set -euo pipefail
root=$1 row_work=$2 work=$3
. "$root/scripts/lib/realworld.sh"
shared=$(rw_shared_dir "$root")
[[ -x $row_work/OLD ]] ||
	fail "no OLD in $row_work: the row realworld.clang.bcb41c919 makes it (ctest runs it first)"

rw_begin_work
cp "$row_work/OLD" nginx
front=$(rw_free_port) pp=$(rw_free_port) h2=$(rw_free_port)
rw_nginx_prefix "$work/prefix" "$front" "$(rw_free_port)" "$(rw_free_port)" no
rw_nginx_row_conf "$work/prefix" proxy_v2 "$pp"
rw_nginx_row_conf "$work/prefix" h2c "$h2"
./nginx -p "$work/prefix/" -c nginx.conf >>server.log 2>&1 &
server_pid=$!
for p in "$front" "$pp" "$h2"; do
	rw_wait_port "$p" "$server_pid" ||
		{ cat server.log "$work/prefix/logs/error.log" >&2; fail "nginx did not listen on $p"; }
done

py() { timeout 20 /usr/bin/python3 "$root/tests/realworld/$1" "${@:2}" 2>&1 || echo "$1 exit $?"; }
check() {
	local got=$1 want=$2 what=$3
	echo "$what: $got"
	[[ $got =~ $want ]] || fail "$what: expected /$want/, got '$got'"
}
check "$(py proxyv2.py "$pp" 220)" '^addr=192\.0\.2\.7$' "PROXY v2, 220 bytes"
check "$(py proxyv2.py "$pp" 40)" '^addr=192\.0\.2\.7$' "PROXY v2, 40 bytes"
check "$(py proxyv2.py "$h2" 220 | head -n 1)" '^HTTP/1\.1 400 ' "PROXY v2 to the HTTP server"
check "$(py h2c.py "$h2" localhost /)" '^status=200$' "h2c with :authority and host"
check "$(py h2c.py "$pp" localhost /)" '^closed' "h2c to the PROXY port"
rw_stop
echo "clients: ok"
