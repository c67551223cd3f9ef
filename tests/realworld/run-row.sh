#!/usr/bin/env bash
# One corpus row of ../shared/realworld, done as a user would: build the
# fix's parent with the compiler plugin, save it as OLD, check out the fix
# in the same work tree, make again, save NEW; mkpatch --explain OLD NEW;
# start OLD with the runtime on 127.0.0.1 under load (memcslap / wrk),
# observe the row's request before, apply, after, revert, before, apply
# again, after; the load must see 0 failed requests and the server must
# still answer. Rows that must be refused: mkpatch exits 3 naming the
# culprit. What each row expects is in rows.sh.
#
# Prints, and appends to RESULTS when given, one tab-separated line:
#   row compiler outcome |P| spurious inlined analysis_s total_s note
# outcome: patched-observed refused-right no-change-right refused-wrong
# mkpatch-error build-failed wrong-result unobservable. Exits 0 for
# patched-observed, refused-right, no-change-right and unobservable, 1
# otherwise.
#
# Usage: run-row.sh ROOT TREES WORK COMPILER CC PLUGIN RUNTIME CLI MKPATCH COMMIT [RESULTS]
#   TREES: where the bundle clones live between rows (build tree)
set -euo pipefail
root=$1 trees=$2 work=$3 compiler=$4 cc=$5 plugin=$6 runtime=$7 cli=$8 mkpatch=$9
commit=${10} results=${11:-}
. "$root/scripts/lib/realworld.sh"
. "$root/tests/realworld/rows.sh"

shared=$(rw_shared_dir "$root")
rw_row "$commit"
short=${row_commit:0:9}
# A helper's fail() ends the row with a result line: while building, the
# outcome is build-failed; once OLD runs, wrong-result.
fail_outcome=build-failed
fail() {
	echo "FAIL: $*" >&2
	finish "$fail_outcome" "$*"
}
case $compiler in
gcc) flag=-fplugin=$plugin ;;
*) flag=-fpass-plugin=$plugin ;;
esac

rw_begin_work

P=- spurious=- inlined=- t_analysis=- t_total=-
# finish OUTCOME NOTE: the result line, then the exit status.
finish() {
	local line
	line=$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$short" "$compiler" "$1" "$P" \
		"$spurious" "$inlined" "$t_analysis" "$t_total" "$2")
	echo "RESULT $line"
	[[ -z $results ]] || echo "$line" >>"$results"
	case $1 in
	patched-observed | refused-right | no-change-right | unobservable) exit 0 ;;
	*) exit 1 ;;
	esac
}
step() { echo "== $short $compiler: $*"; }

# ---- build OLD and NEW in one work tree
tree=$trees/$compiler/$row_program
step "parent ${row_parent:0:9} in $tree"
rw_tree "$trees/cache" "$tree" "$row_program" "$row_parent"
bin=$(rw_build_first "$row_program" "$tree" "$work/build-old.log") || {
	tail -n 20 "$work/build-old.log"
	finish build-failed "parent: $(grep -m1 -E 'error|Error' "$work/build-old.log" | head -c 150)"
}
cp "$bin" "$work/OLD"
step "fix ${row_commit:0:9}, make again"
rw_checkout "$tree" "$row_commit"
bin=$(rw_build_again "$row_program" "$tree" "$work/build-new.log") || {
	tail -n 20 "$work/build-new.log"
	finish build-failed "fix: $(grep -m1 -E 'error|Error' "$work/build-new.log" | head -c 150)"
}
cp "$bin" "$work/NEW"
# after the build: a data row's plan looks at the built tree
rw_plan "$short"

# ---- mkpatch: analysis alone, then the whole run with the recompile
now() { date +%s.%N; }
t0=$(now)
"$mkpatch" --json --dry-run OLD NEW >analysis.json 2>/dev/null || true
t1=$(now)
status=0
"$mkpatch" --explain OLD NEW -o fix.hpk >explain.txt 2>mkpatch.err || status=$?
t2=$(now)
t_analysis=$(printf '%.2f' "$(bc <<<"$t1 - $t0")")
t_total=$(printf '%.2f' "$(bc <<<"$t2 - $t1")")
step "mkpatch exited $status (analysis ${t_analysis}s, whole ${t_total}s)"
cat explain.txt mkpatch.err
reason=$(grep -v '^mkpatch: [0-9]* function(s)\|^mkpatch: wrote' mkpatch.err | head -n 3 | tr '\n' ' ' | head -c 200) || true

if ((status == 0)); then
	python3 "$root/tests/realworld/touched.py" "$tree" "$row_parent" "$row_commit" analysis.json \
		<explain.txt >touched.txt
	cat touched.txt
	read -r P t_touched spurious inlined _ < <(sed -n 's/^summary P=\([0-9]*\) touched=\([0-9]*\) spurious=\([0-9]*\) inlined=\([0-9]*\) unknown=\([0-9]*\)$/\1 \2 \3 \4 \5/p' touched.txt)
	: "$t_touched"
fi

case $plan_kind:$status in
refuse:3 | data:3)
	grep -Eq -- "$plan_culprit" mkpatch.err || finish refused-wrong "refused, but not naming /$plan_culprit/: $reason"
	finish refused-right "$reason"
	;;
refuse:0) finish wrong-result "must refuse (/$plan_culprit/) but wrote a package" ;;
*:3) finish refused-wrong "$reason" ;;
data:4)
	[[ $plan_same == yes ]] || finish wrong-result "mkpatch found no change, but the data differs in this build"
	finish no-change-right "the changed data is the same bytes in this build; $reason"
	;;
*:4) finish wrong-result "mkpatch found no change" ;;
*:0) ;;
*) finish mkpatch-error "exit $status: $reason" ;;
esac

# ---- live: OLD with the runtime, under load
fail_outcome=wrong-result
port=$(rw_free_port)
aux_port=
observe() { rw_observe "$short" "$port" "$aux_port"; }
# expect WANT WHEN: the row's request must show WANT
expect() {
	local got
	got=$(observe)
	step "$2: $got"
	[[ $got == "$1" ]] || finish wrong-result "$2: expected $1, got $got"
}
live_fail() { finish wrong-result "$*"; }
# hp_fail WHAT: a failed apply or revert, with the CLI's last message
hp_fail() { finish wrong-result "$1: $(tail -n 1 "$work/hotpatch.err" 2>/dev/null)"; }

echo 'rwuser:rwpass' >"$work/authfile"
start_server() {
	if [[ $row_program == memcached ]]; then
		rw_mc_start "$work/OLD" "$port" "${plan_args[@]}"
	else
		local has_port=no
		# git grep, not git show | grep -q: grep -q quits at the first
		# match, git show dies of SIGPIPE and pipefail says "no".
		git -C "$tree" grep -q request_port "$row_parent" -- src/http/ngx_http_variables.c && has_port=yes
		rw_nginx_prefix "$work/prefix" "$port" "$(rw_free_port)" "$(rw_free_port)" "$has_port"
		if [[ -n $plan_listen ]]; then
			aux_port=$(rw_free_port)
			rw_nginx_row_conf "$work/prefix" "$plan_listen" "$aux_port"
		fi
		rw_nginx_start "$work/OLD" "$work/prefix" "$port"
	fi
}
start_load() {
	rm -f "$work/stop-load"
	if [[ $plan_load == auth ]]; then
		/usr/bin/python3 "$root/tests/realworld/mcauthload.py" "$port" rwuser rwpass 120 \
			"$work/stop-load" >"$work/load.txt" 2>&1 &
	elif [[ $row_program == memcached ]]; then
		rw_mc_load "$port" 120 "$work/load.txt" &
	else
		rw_wrk "$port" 120 "$work/load.txt" &
	fi
	load_pid=$!
}
stop_load() {
	touch "$work/stop-load"
	local rc=0
	wait "$load_pid" || rc=$?
	load_pid=
	cat "$work/load.txt" | tail -n 12
	((rc == 0)) || live_fail "the load client saw failed requests: $(tail -n 1 "$work/load.txt")"
}
still_answers() {
	if [[ $row_program == memcached ]]; then
		local auth=
		[[ $plan_load == auth ]] && auth='set auth 0 0 13\r\nrwuser rwpass\r\n'
		[[ $(rw_mc_query "$port" "${auth}version\r\n") == *VERSION* ]]
	else
		[[ $(curl -s -m3 "http://127.0.0.1:$port/") == hello ]]
	fi
}

if [[ $plan_kind == crash && $row_program == memcached ]]; then
	rw_mc_start "$work/OLD" "$port" "${plan_args[@]}"
	expect before "before, on a throwaway parent"
	rw_stop
	port=$(rw_free_port)
fi
start_server
if [[ $plan_kind == crash && $row_program == nginx ]]; then
	expect before "before, without load (a worker dies)"
	rw_nginx_wait_workers 2
fi
start_load
if [[ $plan_kind == check ]]; then
	expect before "before apply"
fi
rw_hotpatch apply fix.hpk || hp_fail "hotpatch apply failed"
"$cli" list "$server_pid"
case $plan_kind in
check)
	expect after "after apply"
	rw_hotpatch revert || hp_fail "hotpatch revert failed"
	expect before "after revert"
	rw_hotpatch apply fix.hpk || hp_fail "the second apply failed"
	expect after "after the second apply"
	;;
crash)
	expect after "after apply"
	rw_hotpatch revert || hp_fail "hotpatch revert failed"
	rw_hotpatch apply fix.hpk || hp_fail "the second apply failed"
	expect after "after the second apply"
	;;
*)
	rw_hotpatch revert || hp_fail "hotpatch revert failed"
	rw_hotpatch apply fix.hpk || hp_fail "the second apply failed"
	;;
esac
stop_load
still_answers || live_fail "the server no longer answers after the load"
rw_stop
if [[ $plan_kind == check || $plan_kind == crash ]]; then
	finish patched-observed "$(tail -n 1 "$work/load.txt" | head -c 80)"
fi
finish unobservable "${plan_why:-data-only change, packaged and applied}; applied, reverted, re-applied under load"
