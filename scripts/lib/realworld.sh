# Shell helpers for tests/realworld: clone memcached or nginx from the
# bundles in ../shared/realworld, build a corpus row's parent and fix with
# a compiler plugin in one work tree, run the server on 127.0.0.1 with the
# runtime under bounded load. Source it; it defines functions only.
# Callers set: shared (the realworld folder), work (the row's scratch
# directory), cc, flag (the plugin option), runtime, cli.

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# rw_shared_dir ROOT: prints ROOT/../shared/realworld, or fails saying
# what is missing (CI puts ../shared beside the clone; never a skip).
rw_shared_dir() {
	local dir
	dir=$(cd "$1/.." && pwd)/shared/realworld
	[[ -r $dir/corpus.tsv && -r $dir/memcached.bundle && -r $dir/nginx.bundle ]] ||
		fail "the real-world corpus is missing: expected $dir with corpus.tsv and the bundles (CI puts ../shared beside the clone)"
	echo "$dir"
}

# rw_row COMMIT: reads the corpus row whose commit starts with COMMIT
# into row_program row_commit row_parent row_category row_functions
# row_subject row_observable.
rw_row() {
	local line
	line=$(awk -F'\t' -v c="$1" 'NR > 1 && index($2, c) == 1' "$shared/corpus.tsv")
	[[ -n $line && $(wc -l <<<"$line") == 1 ]] || fail "no single corpus row for commit '$1'"
	IFS=$'\t' read -r row_program row_commit row_parent row_category row_functions \
		row_subject row_observable _ <<<"$line"
}

# rw_corpus_commits: every row's commit, in corpus order.
rw_corpus_commits() {
	awk -F'\t' 'NR > 1 { print substr($2, 1, 9) }' "$shared/corpus.tsv"
}

# rw_tree CACHE TREE PROGRAM REV: TREE is a clean checkout of REV. The
# bundle is cloned once into CACHE (bare) and TREE is cloned from it and
# kept, as a user keeps one checkout and moves it between commits.
rw_tree() {
	local cache=$1 tree=$2 program=$3 rev=$4
	if [[ ! -d $cache/$program.git ]]; then
		mkdir -p "$cache"
		git clone -q --bare "$shared/$program.bundle" "$cache/$program.git.tmp" &&
			mv "$cache/$program.git.tmp" "$cache/$program.git" ||
			fail "git clone of $shared/$program.bundle failed"
	fi
	if [[ ! -d $tree/.git ]]; then
		rm -rf "$tree"
		git clone -q --no-checkout "$cache/$program.git" "$tree" || fail "git clone into $tree failed"
	fi
	git -C "$tree" checkout -q -f "$rev" && git -C "$tree" clean -q -f -d -x ||
		fail "git checkout $rev in $tree failed"
}

# rw_checkout TREE REV: moves the built tree to REV, keeping the build
# products, as a user applying a fix would.
rw_checkout() {
	git -C "$1" checkout -q "$2" || fail "git checkout $2 in $1 failed"
}

# rw_mc_no_werror: older memcached trees (configure.ac of 2020 and before)
# put -Werror into CFLAGS unconditionally, and today's compilers warn about
# their sources (-Wstrict-prototypes, -Warray-bounds) with or without the
# plugin. What a user of such a tree does: append -Wno-error to the
# Makefile's CFLAGS, which changes no generated code. Run in the tree after
# every (re)configure; a Makefile without -Werror is left alone.
rw_mc_no_werror() {
	grep -q '^CFLAGS = .*-Werror' Makefile || return 0
	grep -q '^CFLAGS = .*-Wno-error$' Makefile && return 0
	sed -i 's/^CFLAGS = .*/& -Wno-error/' Makefile
}

# rw_build_first PROGRAM TREE LOG: configure and build as the program's
# README says, with $cc and $flag; the binary path is printed.
rw_build_first() {
	local program=$1 tree=$2 log=$3
	(
		cd "$tree" || exit 1
		case $program in
		memcached)
			./autogen.sh && ./configure CC="$cc" CFLAGS="-O2 -g $flag" &&
				rw_mc_no_werror && nice -n 10 make -j2 memcached
			;;
		nginx)
			rw_nginx_configure && nice -n 10 make -j2
			;;
		esac
	) >"$log" 2>&1 || return 1
	rw_binary_path "$program" "$tree"
}

# rw_build_again PROGRAM TREE LOG: after a checkout, make again; nginx
# needs auto/configure when the fix adds a source file, so a failed make
# is retried once after it (what its README tells a user).
rw_build_again() {
	local program=$1 tree=$2 log=$3
	(
		cd "$tree" || exit 1
		case $program in
		memcached)
			# the fix's Makefile.am or configure.ac may make config.status
			# write the Makefile anew: make the Makefile first, then check
			nice -n 10 make Makefile && rw_mc_no_werror && nice -n 10 make -j2 memcached
			;;
		nginx) nice -n 10 make -j2 || { rw_nginx_configure && nice -n 10 make -j2; } ;;
		esac
	) >"$log" 2>&1 || return 1
	rw_binary_path "$program" "$tree"
}

# rw_nginx_configure: as the rows build nginx. RW_STATIC_LIBS=1 links
# Debian's static PCRE2 and zlib into it (built without the plugin: the
# plugin on the server's own sources only), with -Wl,--emit-relocs as
# hotpatch_enable() links, so mkpatch compares that code exactly.
rw_nginx_configure() {
	local ld=()
	[[ ${RW_STATIC_LIBS:-0} == 1 ]] &&
		ld=(--with-ld-opt="-Wl,--emit-relocs -Wl,-Bstatic -lpcre2-8 -lz -Wl,-Bdynamic")
	auto/configure --with-cc="$cc" --with-cc-opt="-O2 -g $flag" "${ld[@]}" \
		--with-http_v2_module --with-stream --without-http_gzip_module
}

rw_binary_path() {
	case $1 in
	memcached) echo "$2/memcached" ;;
	nginx) echo "$2/objs/nginx" ;;
	esac
}

# rw_free_port: a TCP port on 127.0.0.1 nobody listens on right now.
rw_free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# rw_wait_port PORT PID: until PORT accepts a connection (fails if PID
# dies or 10 s pass).
rw_wait_port() {
	local port=$1 pid=$2 _
	for _ in $(seq 200); do
		nc -z 127.0.0.1 "$port" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# rw_mc_start BINARY PORT [ARGS...]: memcached with the runtime preloaded
# (@PORT@ in ARGS becomes PORT),
# in the foreground of a background job; sets server_pid and server_exe.
rw_mc_start() {
	local binary=$1 port=$2 user=()
	shift 2
	set -- "${@//@PORT@/$port}"
	((EUID == 0)) && user=(-u root)
	LD_PRELOAD=$runtime "$binary" "${user[@]}" -p "$port" -U 0 -l 127.0.0.1 "$@" \
		>>"$work/server.log" 2>&1 &
	server_pid=$! server_exe=$binary
	rw_wait_port "$port" "$server_pid" || { cat "$work/server.log" >&2; fail "memcached did not listen on $port"; }
}

# rw_mc_load PORT SECONDS OUT: memcslap rounds (sets, then gets, 4
# threads) until $work/stop-load exists or SECONDS pass, at most 200
# rounds. memcslap exits 0 whatever happens, so every round's "Fatal
# error" lines (-v) are counted as failed requests, and a round without
# its "Time to ..." line fails whole. Its get count is of hits only, so
# the gap to what was asked is reported as misses, not failures. OUT
# gets one line per round and a summary "load: R rounds, N requests, F
# failed, M misses". Exits 1 if F > 0.
rw_mc_load() {
	local port=$1 seconds=$2 out=$3 deadline rounds=0 total=0 failed=0 misses=0 test got bad n
	local per=2000 threads=4
	deadline=$((SECONDS + seconds))
	: >"$out"
	while ((rounds < 200 && SECONDS < deadline)) && [[ ! -e $work/stop-load ]]; do
		test=set
		((rounds % 2)) && test=get
		got=$(timeout 30 memcslap -v --servers="127.0.0.1:$port" --concurrency=$threads \
			--execute-number=$per --test=$test 2>&1) || true
		bad=$(grep -c 'Fatal error\|Failure' <<<"$got") || true
		n=$(sed -n "s/^Time to $test *\([0-9]*\) keys by .*/\1/p" <<<"$got")
		[[ -n $n ]] || { n=0 bad=$((bad > 0 ? bad : per * threads)); }
		echo "round $rounds $test: $n done, failed $bad" >>"$out"
		rounds=$((rounds + 1)) total=$((total + per * threads)) failed=$((failed + bad))
		misses=$((misses + per * threads - n))
	done
	echo "load: $rounds rounds, $total requests, $failed failed, $misses misses" >>"$out"
	((failed == 0 && rounds > 0))
}

# rw_mc_query PORT REQUEST [WAIT]: one request (\r\n escapes) on a fresh
# connection; prints the reply, unquoted.
rw_mc_query() {
	RAW=1 timeout 20 /usr/bin/python3 "$shared/tools/mcq.py" "$@"
}

# rw_nginx_prefix DIR PORT_FRONT PORT_BACK PORT_SPLIT HAS_REQUEST_PORT:
# a copy of nginx-test in DIR with the ports replaced (so rows can run
# beside other tests), without request_port.conf for trees lacking it.
rw_nginx_prefix() {
	local dir=$1 front=$2 back=$3 split=$4 has_port=$5 f
	rm -rf "$dir" && mkdir -p "$dir/logs" "$dir/tmp"
	cp -r "$shared/nginx-test/html" "$dir/"
	chmod -R u+w "$dir"
	for f in "$shared"/nginx-test/*.conf; do
		[[ $(basename "$f") == request_port.conf && $has_port != yes ]] && continue
		sed -e "s/18080/$front/g" -e "s/18081/$back/g" -e "s/18082/$split/g" \
			-e 's/max-age=99999999999999999999/max-age=9999999999999999999/' \
			"$f" >"$dir/$(basename "$f")"
	done
	# 8255bd29a: the parent's n = n * 10 + d wraps modulo 2^64. Twenty
	# nines wrap to 7766279631452241919, positive, so the parent caches
	# (HIT) like the fix; nineteen wrap to a negative n, valid_sec lands
	# in the past and the parent's second reply is EXPIRED.
	grep -q 'max-age=9999999999999999999"' "$dir/nginx.conf" ||
		fail "nginx-test/nginx.conf: the /cc backend's max-age is not the expected one"
	# A root master runs its workers as nobody, and a child that changes
	# its uid after fork keeps its runtime socket in the directory of the
	# uid it was forked with (/tmp/hotpatch-0), while `hotpatch` looks in
	# the one of the uid it runs as now (/tmp/hotpatch-65534): no worker
	# could be reached. Workers stay root here, as memcached gets -u root.
	if ((EUID == 0)); then
		sed -i '1i user root;' "$dir/nginx.conf"
	fi
}

# rw_nginx_row_conf DIR KIND PORT: a listener one row's request needs, on
# PORT, added to DIR's nginx.conf (the shared config has only HTTP/1):
#   proxy_v2  a stream server that reads a PROXY protocol header and
#             answers with the client address it names
#   h2c       an HTTP/2 server without TLS (nginx >= 1.25.1: "http2 on")
rw_nginx_row_conf() {
	local conf=$1/nginx.conf kind=$2 port=$3
	case $kind in
	proxy_v2)
		printf '\nstream {\n    server {\n        listen 127.0.0.1:%s proxy_protocol;\n        return "addr=$proxy_protocol_addr\\n";\n    }\n}\n' \
			"$port" >>"$conf"
		;;
	h2c)
		# into the http block, before its closing brace
		awk -v port="$port" '/^http *\{/ { in_http = 1 }
			in_http && /^}/ { in_http = 0; done = 1
				printf "    server {\n        listen 127.0.0.1:%s;\n        http2 on;\n        location / { return 200 \"h2 ok\\n\"; }\n    }\n", port }
			{ print } END { exit !done }' "$conf" >"$conf.new" && mv "$conf.new" "$conf" ||
			fail "rw_nginx_row_conf: no http block in $conf"
		;;
	*) fail "rw_nginx_row_conf: unknown listener kind '$kind'" ;;
	esac
}

# rw_nginx_start BINARY DIR FRONT_PORT: the master with the runtime
# preloaded (its workers inherit it); sets server_pid and server_exe.
rw_nginx_start() {
	local binary=$1 dir=$2 port=$3
	LD_PRELOAD=$runtime "$binary" -p "$dir/" -c nginx.conf >>"$work/server.log" 2>&1 &
	server_pid=$! server_exe=$binary
	rw_wait_port "$port" "$server_pid" || { cat "$work/server.log" "$dir/logs/error.log" >&2; fail "nginx did not listen on $port"; }
	rw_nginx_wait_workers 2
}

# rw_nginx_wait_workers N: until the master and N worker children (by
# their process title; the cache manager and loader are children too)
# answer `hotpatch status` (each process has its own runtime socket).
rw_nginx_wait_workers() {
	local want=$1 _ n p
	for _ in $(seq 200); do
		n=0
		"$cli" status "$server_pid" >/dev/null 2>&1 || n=-1000
		for p in $(ps -o pid= --ppid "$server_pid" 2>/dev/null); do
			[[ $(cat "/proc/$p/cmdline" 2>/dev/null | tr '\0' ' ') == 'nginx: worker process'* ]] || continue
			"$cli" status "$p" >/dev/null 2>&1 && n=$((n + 1))
		done
		((n >= want)) && return 0
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.05
	done
	fail "nginx: the master and $want workers with the runtime listening did not show up"
}

# rw_server_pids: the server and its child processes (nginx workers,
# cache manager), server first.
rw_server_pids() {
	echo "$server_pid"
	ps -o pid= --ppid "$server_pid" 2>/dev/null | tr -d ' '
}

# rw_begin_work: an empty $work as the working directory, and a trap that
# stops the load client ($load_pid) and every process of the server
# ($server_pid) however the script ends. Both start unset.
rw_begin_work() {
	server_pid= load_pid=
	trap rw_cleanup EXIT
	rm -rf "${work:?}" && mkdir -p "$work"
	cd "$work"
}
rw_cleanup() {
	local p
	[[ -n $load_pid ]] && kill "$load_pid" 2>/dev/null
	if [[ -n $server_pid ]]; then
		for p in $(rw_server_pids); do kill -KILL "$p" 2>/dev/null; done
	fi
	wait 2>/dev/null
	return 0
}

# rw_hotpatch OP [PKG]: apply or revert in every process of the server as
# one group, `hotpatch apply|revert --exe` on its binary: the nginx master
# too, so workers it forks later are patched alike. A child that exits
# before its verify (nginx's cache loader ends once it has loaded) is
# skipped by the CLI; one that dies after it rolls the group back, and
# the apply fails. The CLI's error line is kept in $work/hotpatch.err.
rw_hotpatch() {
	local rc=0
	if [[ $1 == apply ]]; then
		"$cli" apply --exe "$server_exe" "$2" 2>"$work/hotpatch.err" || rc=$?
	else
		"$cli" revert --exe "$server_exe" 2>"$work/hotpatch.err" || rc=$?
	fi
	cat "$work/hotpatch.err" >&2
	return "$rc"
}

# rw_wrk PORT SECONDS OUT: rounds of wrk (2 s each, 2 threads, 8
# connections) against / until $work/stop-load exists or SECONDS pass, at
# most 200 rounds. A round fails when wrk reports a socket error or a
# non-2xx reply, or prints no "requests in" line. OUT gets each round's
# wrk output and a summary "load: R rounds, N requests, F failed rounds".
# Exits 1 if F > 0.
rw_wrk() {
	local port=$1 seconds=$2 out=$3 deadline rounds=0 total=0 failed=0 got n
	deadline=$((SECONDS + seconds))
	: >"$out"
	while ((rounds < 200 && SECONDS < deadline)) && [[ ! -e $work/stop-load ]]; do
		got=$(timeout 20 wrk -t2 -c8 -d2s "http://127.0.0.1:$port/" 2>&1) || true
		n=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' <<<"$got")
		echo "round $rounds: ${n:-no} requests" >>"$out"
		if [[ -z $n ]] || grep -q 'Socket errors\|Non-2xx' <<<"$got"; then
			failed=$((failed + 1))
			echo "$got" >>"$out"
		fi
		rounds=$((rounds + 1)) total=$((total + ${n:-0}))
	done
	echo "load: $rounds rounds, $total requests, $failed failed rounds" >>"$out"
	((failed == 0 && rounds > 0))
}

# rw_stop: SIGTERM the server and wait for it.
rw_stop() {
	[[ -n ${server_pid:-} ]] || return 0
	local pid=$server_pid _
	server_pid=
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 200); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
