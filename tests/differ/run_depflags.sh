#!/usr/bin/env bash
# A TU compiled the way automake compiles it (-MT x.o -MD -MP -MF
# .deps/x.Tpo) is recompiled in patch mode without any dependency option:
# mkpatch writes the package (GCC rejects a lone -MP). Also a -Wp,-MD form.
#
# usage: run_depflags.sh MKPATCH CC PLUGIN_FLAG
set -euo pipefail
mkpatch=$1 cc=$2 plugin_flag=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

for v in v1 v2; do
	mkdir -p "$work/$v/.deps"
	ret=1
	[[ $v == v2 ]] && ret=2
	printf 'int __attribute__((noinline)) f(int x) { return x + %d; }\n' $ret >"$work/$v/a.c"
	printf 'int f(int);\nint main(int c, char **v) { (void)v; return f(c); }\n' >"$work/$v/b.c"
	(cd "$work/$v" &&
		"$cc" -O2 -g "$plugin_flag" -MT a.o -MD -MP -MF .deps/a.Tpo -c -o a.o a.c &&
		"$cc" -O2 -g "$plugin_flag" -Wp,-MD,.deps/b.pp -MQ b.o -c -o b.o b.c &&
		"$cc" -o prog a.o b.o) || fail "building $v"
done
status=0
"$mkpatch" "$work/v1/prog" "$work/v2/prog" -o "$work/fix.hpk" 2>"$work/err" || status=$?
cat "$work/err"
((status == 0)) || fail "mkpatch exited $status"
[[ -s $work/fix.hpk ]] || fail "no package written"
echo "PASS: automake dependency options dropped from the patch compile ($cc)"
