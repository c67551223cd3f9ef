# Hashes are of the optimised body: lines moving changes none; one
# constant changes exactly the function using it and its inliners.
. "$(dirname "$0")/lib.sh"

build() { hpcc -O2 -fPIC -shared "$@"; }

cp "$HP_INPUTS/hash.c" a.c
# lines inserted at the top, between and inside functions
{ printf '/* moved */\n\n\n'; sed -e 's|^int other|\n\n/* x */\nint other|' -e 's|int s = 0;|int s = 0;\n\n|' a.c; } >b.c
build a.c -o a.so
build b.c -o b.so
[ -z "$(changed a.so b.so)" ] || fail "inserted lines changed: $(changed a.so b.so)"
# -g does not change a hash either
build -g a.c -o ag.so
[ -z "$(changed a.so ag.so)" ] || fail "-g changed: $(changed a.so ag.so)"

build -DK=8 a.c -o k.so
[ "$(changed a.so k.so)" = "caller1 caller2 " ] || fail "K changed: '$(changed a.so k.so)'"
build -DKS=6 a.c -o ks.so
[ "$(changed a.so ks.so)" = "solo " ] || fail "KS changed: '$(changed a.so ks.so)'"
build -DMSG='"v2"' a.c -o m.so
[ "$(changed a.so m.so)" = "msg " ] || fail "MSG changed: '$(changed a.so m.so)'"
sed 's/d \* 1.5/d * 1.25/' a.c >f.c
build f.c -o f.so
[ "$(changed a.so f.so)" = "scale " ] || fail "float changed: '$(changed a.so f.so)'"
# the same at -O0 (no inlining: only helper changes)
hpcc -O0 -fPIC -shared a.c -o a0.so
hpcc -O0 -fPIC -shared -DK=8 a.c -o k0.so
[ "$(changed a0.so k0.so)" = "helper " ] || fail "-O0 K changed: '$(changed a0.so k0.so)'"
# a changed initial value shows in the variable's init hash
sed 's/g_state = 3/g_state = 4/' a.c >i.c
build i.c -o i.so
[ -z "$(changed a.so i.so)" ] || fail "init change changed code hashes"
[ "$(dump a.so | grep '^var g_state')" != "$(dump i.so | grep '^var g_state')" ] ||
	fail "g_state init hash unchanged"
echo "hash: ok"
