#!/usr/bin/env bash
# Every samples/patches/NN-*/fix.diff still applies to the current engine
# and compiles warning-free; each probe file is well-formed, the unpatched
# engine answers its "before" line and a freshly built fixed engine its
# "fixed" line.
# Engines run with RUNTIME preloaded when it is given (a fix that uses
# shadow variables needs it). Probe lines may hold {N*c} (hpkv_expand).
# Usage: check-patches.sh REPO_ROOT HPLOAD [CC [RUNTIME]]
set -euo pipefail
root=$1 HPLOAD=$2 cc=${3:-${CC:-cc}} runtime=${4:-}
HPKV=unused
source "$root/scripts/lib/hpkv.sh" # hpkv_expand (its fail() is replaced next)
source "$(dirname "$0")/lib.sh"

warn=(-std=gnu11 -O1 -pthread -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes
	-Wmissing-prototypes -Wvla -Wno-unused-parameter -Werror -I"$root/include")

build_engine() { # DIR OUT
	"$cc" "${warn[@]}" "$1"/samples/engine/*.c -o "$2" 2>"$work/cc.err" ||
		{ cat "$work/cc.err" >&2; return 1; }
}

probe_field() { # FILE KEY
	sed -n "s/^$2: //p" "$1"
}

# probe_reply ENGINE LINE [LINE]: start ENGINE fresh, send the setup lines
# (array $setup) and then LINEs on one connection, print the replies to the
# LINEs, stop it.
probe_reply() {
	local engine=$1 out
	shift
	HPKV=$engine
	if [[ -n $runtime ]]; then
		HOTPATCH_NO_LISTEN=1 LD_PRELOAD=$runtime start_server --threads 1
	else
		start_server --threads 1
	fi
	local -a args=()
	for line in "${setup[@]}" "$@"; do args+=(--send "$(hpkv_expand "$line")"); done
	out=$(send "${args[@]}") || fail "no reply from $engine"
	stop_server
	tail -n +$((${#setup[@]} + 1)) <<<"$out"
}

mkdir -p "$work/base/samples"
cp -r "$root/samples/engine" "$work/base/samples/"
build_engine "$work/base" "$work/hpkv-base" || fail "the unpatched engine does not compile"

count=0
for dir in "$root"/samples/patches/*/; do
	name=$(basename "$dir")
	[[ -f $dir/fix.diff && -f $dir/probe && -f $dir/README.md ]] ||
		fail "$name: needs fix.diff, probe and README.md"
	tree=$work/$name
	cp -r "$work/base" "$tree"
	patch -p1 -s -d "$tree" --dry-run <"$dir/fix.diff" >"$work/patch.out" 2>&1 ||
		{ cat "$work/patch.out" >&2; fail "$name: fix.diff does not apply"; }
	patch -p1 -s -d "$tree" <"$dir/fix.diff"
	build_engine "$tree" "$work/hpkv-$name" || fail "$name: patched engine does not compile"

	for key in send before after fixed expect probe-once; do
		[[ $(grep -c "^$key: " "$dir/probe") == 1 ]] || fail "$name: probe needs one '$key:' line"
	done
	mapfile -t setup < <(probe_field "$dir/probe" setup)
	req=$(probe_field "$dir/probe" send)
	before=$(probe_field "$dir/probe" before)
	after=$(probe_field "$dir/probe" after)
	fixed=$(probe_field "$dir/probe" fixed)
	expect=$(probe_field "$dir/probe" expect)
	once=$(probe_field "$dir/probe" probe-once)
	[[ $expect == applied || $expect == refused ]] || fail "$name: expect is '$expect'"
	[[ $once == yes || $once == no ]] || fail "$name: probe-once is '$once'"
	[[ $expect == refused || $before != "$fixed" ]] ||
		fail "$name: the probe does not tell the versions apart"

	got=$(probe_reply "$work/hpkv-base" "$req" "$req")
	want=$(printf '%s\n' "$before" "$before")
	# Sent twice to the unpatched engine: a refused patch leaves it as is,
	# so the second reply is what "after" promises.
	if [[ $expect == refused || $once == no ]]; then
		second=$([[ $expect == refused ]] && echo "$after" || echo "$before")
		want=$(printf '%s\n' "$before" "$second")
	fi
	[[ $once == yes && $expect == applied ]] && got=${got%%$'\n'*} want=$before
	[[ $got == "$want" ]] || fail "$name: unpatched engine answered '${got:0:80}', want '${want:0:80}'"
	[[ $expect == applied && $once == no && $after != "$fixed" ]] &&
		fail "$name: after and fixed differ but the probe is not probe-once"

	got=$(probe_reply "$work/hpkv-$name" "$req")
	[[ $got == "$fixed" ]] || fail "$name: fixed engine answered '${got:0:80}', want '${fixed:0:80}'"

	# The load client must see no difference between the versions: the
	# end-to-end tests run it across apply and revert.
	HPKV=$work/hpkv-$name
	start_server --threads 2
	"$HPLOAD" --port "$port" --connections 2 --requests 4000 >"$work/load.out" 2>&1 ||
		{ cat "$work/load.out" >&2; fail "$name: hpload fails against the fixed engine"; }
	stop_server
	echo "ok $name"
	count=$((count + 1))
done
((count > 0)) || fail "no patches found"
echo "PASS ($count patches)"
