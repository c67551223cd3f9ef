# What each corpus row expects, in the form run-row.sh acts on; sourced.
# The corpus's observable_check column is prose; this is that prose as
# requests and the replies that tell the parent from the fix.
#
# rw_plan SHORT sets:
#   plan_kind    check        observe before, after, before, after live
#                crash        the parent's observable kills the server (or
#                             an nginx worker): "before" is observed on a
#                             throwaway instance (memcached) or before the
#                             load starts (nginx); under load only "after"
#                refuse       mkpatch must exit 3 naming plan_culprit
#                data         a data-only change: exit 3 naming
#                             plan_culprit is right, a package is applied
#                             live and recorded unobservable
#                unobservable no request on this machine tells them apart
#   plan_culprit an extended regex the refusal must match
#   plan_args    extra server arguments (memcached; @PORT@ is the port)
#   plan_why     for unobservable rows: why
#   plan_load    auth: the server wants ASCII auth (-Y $work/authfile,
#                which run-row.sh writes), so mcauthload.py is the load
#   plan_same    for data rows: yes when rw_same_data says the changed
#                data comes out byte for byte the same in this build, so
#                mkpatch's "no change" (exit 4) is the right answer
#   plan_listen  nginx: a listener the row's request needs beyond the
#                shared config (rw_nginx_row_conf: proxy_v2, h2c), on the
#                port rw_observe gets as AUX_PORT
# rw_observe SHORT PORT [AUX_PORT]: prints "before", "after" or
# "other: <reply>".

rw_plan() {
	plan_kind=check plan_culprit= plan_args=() plan_why= plan_load= plan_same= plan_listen=
	case $1 in
	0240ddee0 | 32ea7d8b5 | bcb41c919) plan_kind=crash ;;
	8c02ee82c) plan_kind=refuse plan_culprit="slab_rebalance|move_status|stats" ;;
	8a9ab3ea8) plan_kind=refuse plan_culprit="storage_conf_parse|extstore_conf_file" ;;
	5f86648ef) plan_kind=refuse plan_culprit="ngx_http_status_t" ;;
	e09c0d32d) plan_kind=data plan_culprit="ngx_http_log_vars" plan_same=$(rw_same_data "$1") ;;
	9981d748f) plan_args=(-Y "$work/authfile") plan_load=auth ;;
	f8a55c473) plan_kind=unobservable plan_why="extstore hang not reproduced here (corpus: not built)" ;;
	2896cc6c4) plan_kind=unobservable plan_why="shutdown timing; SIGTERM ends the test" ;;
	2f8add883) plan_args=(-I 2m -U @PORT@) ;;
	221c52162) plan_kind=unobservable plan_why="corpus: no short one-node request" ;;
	319a0bff1) plan_kind=unobservable plan_why="1-byte over-read, no client-visible difference" ;;
	7600ca028) plan_listen=proxy_v2 ;;
	ede5623b1) plan_listen=h2c ;;
	esac
}

# rw_same_data SHORT: prints yes when the row's data change does not
# reach this build's objects, no otherwise. e09c0d32d swaps
# NGX_SIZE_T_LEN for NGX_OFF_T_LEN in ngx_http_log_vars[]: the same
# table where both have one value (x86-64: 20), as auto/configure wrote
# them to objs/ngx_auto_config.h of the built tree ($tree).
rw_same_data() {
	local conf=$tree/objs/ngx_auto_config.h a b
	case $1 in
	e09c0d32d)
		a=$(sed -n 's/^#define NGX_SIZE_T_LEN *//p' "$conf" 2>/dev/null) || true
		b=$(sed -n 's/^#define NGX_OFF_T_LEN *//p' "$conf" 2>/dev/null) || true
		[[ -n $a && $a == "$b" ]] && echo yes || echo no
		;;
	*) echo no ;;
	esac
}

rw_observe() {
	local short=$1 port=$2 aux=${3:-} got
	case $short in
	1776b021e)
		got=$(rw_mc_query "$port" 'set rwk 0 100 1\r\nx\r\nme rwk\r\n')
		rw_classify "$got" 'ME rwk exp=-' 'ME rwk exp=[0-9]'
		;;
	e311571de)
		rw_mc_query "$port" 'set a 0 0 1\r\nx\r\n' >/dev/null
		# sed reads the whole reply: head -n 1 closed the pipe early and
		# mcq.py died of a broken pipe
		got=$(rw_mc_query "$port" 'lru_crawler metadump all\r\n' 1 | sed -n 1p)
		rw_classify "$got" '^key=' '^OK'
		;;
	9981d748f)
		got=$(rw_mc_query "$port" 'set foo 0 0 100000\r\n' 1)
		rw_classify "$got" '^$' '^CLIENT_ERROR auth token too long'
		;;
	5f366ccbb)
		got=$(rw_mc_query "$port" 'lru mode flat\r\nlru mode segmented\r\n' | tr -d '\r' | tr '\n' ' ')
		rw_classify "$got" '^ERROR ERROR *$' '^OK OK *$'
		;;
	0240ddee0)
		got=$(timeout 30 /usr/bin/python3 "$shared/tools/slabfill.py" "$port" 'slabs reassign 1 60\r\n' 2>&1 | tr '\n' ' ')
		rw_classify "$got" "reply: b'OK.*server gone" "reply: b'BADCLASS.*after: b'VERSION"
		;;
	32ea7d8b5)
		got=$(timeout 30 /usr/bin/python3 "$shared/tools/binset_watch.py" "$port" 2>&1 | tr '\n' ' ')
		rw_classify "$got" "server gone" "after: b'VERSION"
		;;
	204898392)
		got=$(rw_mc_query "$port" 'stats\r\n' | grep slab_reassign_last_busy_status)
		rw_classify "$got" 'last_busy_status \(null\)' 'last_busy_status none'
		;;
	6ab74b585)
		got=$(rw_mc_query "$port" 'slabs automove window 0\r\nslabs automove window 100000\r\nslabs automove window 30\r\n' |
			tr -d '\r' | tr '\n' ' ')
		rw_classify "$got" '^OK OK OK *$' '^CLIENT_ERROR automove window too low or too high CLIENT_ERROR automove window too low or too high OK *$'
		;;
	bcb41c919)
		got=$(curl -s -m3 "http://127.0.0.1:$port/1234") || got="curl rc $?"
		rw_classify "$got" '^curl rc (28|52)' '^backend uri=/$'
		;;
	067d766f2)
		got=$(curl -s -m3 "http://127.0.0.1:$port/ssi") || got="curl rc $?"
		rw_classify "$got" '^port=\[\]$' "^port=\\[$port\\]\$"
		;;
	2046b45aa)
		got=$(curl -s -m3 "http://127.0.0.1:$port/rw/a%20b%22c") || got="curl rc $?"
		rw_classify "$got" '^myvar=/rw/a%20b$' '^myvar=/rw/a b"c$'
		;;
	8255bd29a)
		local url="http://127.0.0.1:$port/cc?n=$RANDOM$RANDOM"
		curl -s -m3 -o /dev/null "$url" || true
		got=$(curl -si -m3 "$url" | tr -d '\r' | grep -i '^X-Cache:') || got="no X-Cache header"
		rw_classify "$got" '^X-Cache: (MISS|EXPIRED)$' '^X-Cache: HIT$'
		;;
	2f8add883)
		# a 1000000-byte value over UDP: 1000030 bytes of reply in frames
		# of 1392 data bytes are 719 datagrams; the parent divides by the
		# frame's 1400 bytes, header included, and says 715
		got=$(timeout 30 /usr/bin/python3 "$root/tests/realworld/mcudp.py" "$port" 1000000 2>&1) || got="mcudp.py rc $?: $got"
		rw_classify "$got" '^total=715$' '^total=719$'
		;;
	7600ca028)
		# a 220-byte PROXY v2 header: the parent reads 107 bytes of it,
		# logs a broken header and closes; the fix reads it whole
		got=$(timeout 20 /usr/bin/python3 "$root/tests/realworld/proxyv2.py" "$aux" 220 2>&1) || got="proxyv2.py rc $?: $got"
		rw_classify "$got" '^closed without a reply$' '^addr=192\.0\.2\.7$'
		;;
	ede5623b1)
		# ':authority' and 'host' alike: the parent takes the pair for a
		# duplicate Host header (400), the fix answers (200)
		got=$(timeout 20 /usr/bin/python3 "$root/tests/realworld/h2c.py" "$aux" localhost / 2>&1) || got="h2c.py rc $?: $got"
		rw_classify "$got" '^status=400$' '^status=200$'
		;;
	*) echo "other: no observation written for $short" ;;
	esac
}

# rw_classify REPLY BEFORE_RE AFTER_RE
rw_classify() {
	if grep -Eq -- "$2" <<<"$1"; then
		echo before
	elif grep -Eq -- "$3" <<<"$1"; then
		echo after
	else
		echo "other: $(head -c 300 <<<"$1" | tr '\n\r' '  ')"
	fi
}
