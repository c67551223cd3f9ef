#!/usr/bin/env bash
# nginx as one group of processes (master and 4 workers) patched under wrk
# with `hotpatch apply --exe` and `revert --exe`, reusing what the row
# realworld.clang.bcb41c919 built (its OLD and fix.hpk: the proxy segfault
# fix, two static functions):
#  - before the load, GET /1234 kills a worker (the parent's bug);
#  - under wrk: apply --exe patches the master and the 4 workers; GET
#    /1234 answers 'backend uri=/' from every worker (each reply names its
#    worker in X-Worker, from this test's own config);
#  - kill -HUP the master: it starts 4 new workers, forked from the
#    patched master, nothing re-applied: each answers with the fix and
#    lists the patch;
#  - revert --exe; wrk saw no failed request throughout;
#  - without load again, GET /1234 kills a worker (the bug is back) and no
#    process lists a patch; GET / still answers.
# Prints the load's numbers and the CLI's times.
# Usage: group-nginx.sh ROOT ROW_WORK WORK RUNTIME CLI
set -euo pipefail
root=$1 row_work=$2 work=$3 runtime=$4 cli=$5
. "$root/scripts/lib/realworld.sh"
shared=$(rw_shared_dir "$root")
[[ -x $row_work/OLD && -r $row_work/fix.hpk ]] ||
	fail "no OLD and fix.hpk in $row_work: the row realworld.clang.bcb41c919 makes them (ctest runs it first)"

rw_begin_work
# a copy of its own: --exe reaches exactly this test's processes
cp "$row_work/OLD" nginx
cp "$row_work/fix.hpk" fix.hpk

front=$(rw_free_port) back=$(rw_free_port)
prefix=$work/prefix
mkdir -p "$prefix/logs" "$prefix/tmp" "$prefix/html"
cp "$shared/nginx-test/html/123" "$prefix/html/"
# keepalive_timeout 0: a HUP makes the old workers close their idle
# keep-alive connections, and wrk, which always has its next request on
# the way, counts each as a read error (8 with 8 connections, measured
# here with no runtime at all). Without keep-alive every reply says
# "Connection: close" and the reload loses nothing.
{
	((EUID == 0)) && echo "user root;" # see rw_nginx_prefix
	cat <<EOF
daemon off;
master_process on;
worker_processes 4;
error_log logs/error.log info;
pid logs/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_timeout 0;
    client_body_temp_path tmp/client_body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    server {
        listen 127.0.0.1:$back;
        location / { return 200 "backend uri=\$request_uri\n"; }
    }
    server {
        listen 127.0.0.1:$front;
        root html;
        add_header X-Worker \$pid always;
        location = / { return 200 "hello\n"; }
        location /1234 {
            try_files /123 =404;
            proxy_pass http://127.0.0.1:$back/;
        }
    }
}
EOF
} >"$prefix/nginx.conf"

# workers: the pids of the master's children titled "nginx: worker
# process" (not those shutting down after a HUP), sorted
workers() {
	local p title
	for p in $(ps -o pid= --ppid "$server_pid" 2>/dev/null); do
		title=$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | sed 's/ *$//') || continue
		[[ $title == 'nginx: worker process' ]] && echo "$p"
	done | sort -n
}
# wait_workers [OLD]: until there are 4 workers, none of the list OLD
# (those shut down or exit after a HUP), each answering `hotpatch status`
wait_workers() {
	local old=" ${1:-} " _ p n
	for _ in $(seq 400); do
		n=0
		for p in $(workers); do
			[[ $old == *" $p "* ]] && n=-100
			"$cli" status "$p" >/dev/null 2>&1 && n=$((n + 1))
		done
		((n == 4)) && return 0
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.05
	done
	fail "4 new workers with the runtime did not show up: $(workers | tr '\n' ' ')"
}

# GET /1234 on fresh connections until every worker has answered (at most
# 400 requests); every reply must be the fix's.
probes=0
fixed_everywhere() {
	local when=$1 _ got pid body w missing
	declare -A seen=()
	for _ in $(seq 400); do
		got=$(curl -si -m3 "http://127.0.0.1:$front/1234" | tr -d '\r') ||
			fail "$when: GET /1234 failed (curl rc $?): a worker unpatched?"
		probes=$((probes + 1))
		pid=$(sed -n 's/^X-Worker: //p' <<<"$got")
		body=$(tail -n 1 <<<"$got")
		[[ $body == 'backend uri=/' ]] || fail "$when: worker $pid answered '$body'"
		seen[$pid]=1
		missing=0
		for w in $(workers); do [[ -n ${seen[$w]:-} ]] || missing=1; done
		((missing == 0)) && { echo "$when: the fix from workers ${!seen[*]} ($probes requests so far)"; return 0; }
	done
	fail "$when: 400 requests did not reach every worker (seen ${!seen[*]}; workers $(workers | tr '\n' ' '))"
}
# the parent's bug: it corrupts the worker's memory, and the worker dies
# before its reply (curl: no reply) or, some runs, right after a wrong one
# (free() aborts it); either way not the fix's answer
bug_seen() {
	local rc=0 body
	body=$(curl -s -m3 "http://127.0.0.1:$front/1234") || rc=$?
	[[ $rc == 52 || $rc == 28 || ($rc == 0 && $body != 'backend uri=/') ]] ||
		fail "$1: GET /1234 gave curl rc $rc ('$body'), not the parent's bug"
}

LD_PRELOAD=$runtime ./nginx -p "$prefix/" -c nginx.conf >>server.log 2>&1 &
server_pid=$!
rw_wait_port "$front" "$server_pid" || { cat server.log "$prefix/logs/error.log" >&2; fail "nginx did not listen on $front"; }
wait_workers
bug_seen "before"
wait_workers # the master replaced the worker that died
echo "before: GET /1234 kills a worker (the parent's bug)"

rm -f stop-load
rw_wrk "$front" 240 load.txt &
load_pid=$!
# under load from here: wrk has had a connection open. Seen once is
# enough: without keep-alive each connection lasts one request, so a
# second look may fall between two of them.
connected=0
for _ in $(seq 200); do
	[[ $(ss -Htn state established "( dport = :$front )" | wc -l) -gt 0 ]] && { connected=1; break; }
	sleep 0.02
done
((connected)) || fail "wrk did not connect"
t0=$SECONDS
"$cli" apply --exe "$work/nginx" fix.hpk >apply.out 2>apply.err || fail "apply --exe: $(cat apply.err)"
cat apply.out
[[ $(grep -c ': applied patch' apply.out) == 5 ]] || fail "apply --exe did not patch the master and 4 workers"
fixed_everywhere "after apply --exe"

old=$(workers | tr '\n' ' ')
kill -HUP "$server_pid"
wait_workers "$old"
new=$(workers | tr '\n' ' ')
for p in $new; do
	[[ " $old " == *" $p "* ]] && continue
	"$cli" --json list "$p" | grep -q '"id":' || fail "worker $p started by the HUP lists no patch"
done
echo "kill -HUP: workers $old replaced by $new, each listing the patch"
fixed_everywhere "after kill -HUP"

"$cli" revert --exe "$work/nginx" >revert.out 2>revert.err || fail "revert --exe: $(cat revert.err)"
cat revert.out
grep -q "^reverted in [5-9] processes" revert.out || fail "revert --exe did not reach the master and the new workers"
live_s=$((SECONDS - t0))
touch stop-load
rc=0
wait "$load_pid" || rc=$?
load_pid=
tail -n 3 load.txt
((rc == 0)) || fail "wrk saw failed requests: $(tail -n 1 load.txt)"

bug_seen "after revert --exe"
"$cli" list --exe "$work/nginx" >list.out || fail "list --exe after the revert"
[[ $(grep -c '^== process' list.out) == $(grep -c 'no patches applied' list.out) ]] ||
	fail "a process still lists a patch: $(cat list.out)"
[[ $(curl -s -m3 "http://127.0.0.1:$front/") == hello ]] || fail "nginx no longer answers /"
rw_stop
echo "RESULT group nginx: $(tail -n 1 load.txt); $probes probe requests, all fixed;" \
	"$(grep '^applied in' apply.out); $(grep '^reverted in' revert.out); live part ${live_s} s"
