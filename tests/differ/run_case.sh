#!/usr/bin/env bash
# Builds the OLD and NEW programs of one test case and checks what mkpatch
# says about them.
#
# usage: run_case.sh MKPATCH CASEDIR EXPECTED_EXIT PATTERN [MKPATCH ARGS...]
#
# CASEDIR holds old/*.c and new/*.c (one TU per file); each file carries
# "//@" metadata directives that md_emit.py turns into a .hotpatch record
# (standing in for the compiler plugin). With HP_PLUGIN=path/to/
# hotpatch-llvm.so the real plugin builds them instead. PATTERN is an extended regex that
# mkpatch's combined output must match ("" for none). With the real plugin,
# a CASEDIR holding a file "one_command" is built by a single command
# line (cc ... -o prog a.c b.c), as some Makefiles do. A .c file without
# "//@" directives stands for a TU built without the plugin, and *.s files
# (assembly) are linked in as they are. A file "reject" in CASEDIR holds an
# extended regex the output must not match. Both builds are linked with
# -Wl,--emit-relocs, as hotpatch_enable() links them, unless CASEDIR holds
# a file "plain_link". Files named plain_*.c, and without HP_PLUGIN files
# without "//@" directives, are built without the plugin, by the compiler
# in CASEDIR/plain_cc if there is one (gcc: a library from another build).
# Without MKPATCH ARGS the call is "--dry-run --explain".
set -euo pipefail
mkpatch=$1 case=$2 want=$3 pattern=$4
shift 4
here=$(cd "$(dirname "$0")" && pwd)
cc=${HP_CLANG:-clang-19}
work=$(mktemp -d)
plain_cc=$cc
[[ -e $case/plain_cc ]] && plain_cc=$(cat "$case/plain_cc")
# HP_PLAIN_CC: the same case with its plain files built by another compiler
[[ -n ${HP_PLAIN_CC:-} ]] && plain_cc=$HP_PLAIN_CC
ldflags=(-Wl,--emit-relocs)
[[ -e $case/plain_link ]] && ldflags=()
trap 'rm -rf "$work"' EXIT

build() { # side
	local side=$1 objs=()
	mkdir -p "$work/$side"
	if [[ -n ${HP_PLUGIN:-} && -e $case/one_command ]]; then
		local srcs=()
		for src in "$case/$side"/*.c; do srcs+=("$(basename "$src")"); done
		(cd "$case/$side" && "$cc" -O2 -g -fpass-plugin="$HP_PLUGIN" -fplugin="$HP_PLUGIN" \
			"${ldflags[@]}" -o "$work/$side/prog" "${srcs[@]}")
		return
	fi
	for src in "$case/$side"/*.c; do
		local base
		base=$(basename "$src" .c)
		if [[ $base == plain_* ]] || { [[ -z ${HP_PLUGIN:-} ]] && ! grep -q '^//@' "$src"; }; then
			# built without the plugin, by the compiler named in plain_cc
			"$plain_cc" -O2 -g -c "$src" -o "$work/$side/$base.o"
			objs+=("$work/$side/$base.o")
			continue
		fi
		if [[ -n ${HP_PLUGIN:-} ]]; then # the real plugin, compiled where the source is
			(cd "$case/$side" && "$cc" -O2 -g -fpass-plugin="$HP_PLUGIN" -fplugin="$HP_PLUGIN" \
				-c "$base.c" -o "$work/$side/$base.o")
			objs+=("$work/$side/$base.o")
			continue
		fi
		"$cc" -O2 -g -fno-asynchronous-unwind-tables -S "$src" -o "$work/$side/$base.s"
		if grep -q '^//@' "$src"; then
			python3 "$here/md_emit.py" "$src" "$base.c" >>"$work/$side/$base.s"
		fi
		objs+=("$work/$side/$base.s")
	done
	for src in "$case/$side"/*.s; do # hand-written assembly: no metadata
		[[ -e $src ]] && objs+=("$src")
	done
	"$cc" "${ldflags[@]}" "${objs[@]}" -o "$work/$side/prog"
}
build old
build new

args=("$@")
[[ ${#args[@]} -eq 0 ]] && args=(--dry-run --explain)
args=("${args[@]//@WORK@/$work}")
set +e
out=$("$mkpatch" "${args[@]}" "$work/old/prog" "$work/new/prog" 2>&1)
rc=$?
set -e
printf '%s\n' "$out"
if [[ $rc -ne $want ]]; then
	echo "FAIL: exit status $rc, expected $want"
	exit 1
fi
if [[ -n $pattern ]] && ! grep -Eq -- "$pattern" <<<"$out"; then
	echo "FAIL: output does not match /$pattern/"
	exit 1
fi
# HP_REJECT: the same case run with other arguments rejects other output
reject=
[[ -e $case/reject ]] && reject=$(cat "$case/reject")
reject=${HP_REJECT-$reject}
if [[ -n $reject ]] && grep -Eq -- "$reject" <<<"$out"; then
	echo "FAIL: output matches /$reject/"
	exit 1
fi
echo "ok"
