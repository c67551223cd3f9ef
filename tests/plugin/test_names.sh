# Clang only (registered for clang alone): LLVM IR shows the pinning.
# Names stay as the source wrote them (llvm.compiler.used at pipeline start).
. "$(dirname "$0")/lib.sh"

# Without the plugin the optimiser renames: proves the test bites.
"$HP_CC" -O2 -S -emit-llvm "$HP_INPUTS/pins.c" -o plain.ll
grep -q '@hist\.0 = ' plain.ll || echo "note: plain clang no longer splits hist"
grep -q 'define internal fastcc void @bump()' plain.ll || echo "note: plain clang keeps bump's signature"

hpcc -O2 -S -emit-llvm "$HP_INPUTS/pins.c" -o pinned.ll
grep -q '@hist = internal global \[4 x i64\]' pinned.ll || fail "hist lost its layout"
grep -q '@hist\.0' pinned.ll && fail "hist was split into hist.0"
grep -q 'define internal i32 @bump(i32 noundef %0)' pinned.ll || fail "bump lost its signature"
grep -q 'fastcc' pinned.ll && fail "a calling convention changed"

# in the object: hist is 32 bytes, the static local has its owner
hpcc -O2 -c "$HP_INPUTS/pins.c" -o pins.o
hpcc -O2 -shared -fPIC "$HP_INPUTS/pins.c" -o pins.so
"$HP_CHECK" dump pins.so >dump
grep -q '^var hist size=32 .*flags=0x0 ' dump || fail "hist not recorded with size 32"
grep -q '^var counter.calls size=4 .*flags=0x10 .*owner=counter source=calls' dump ||
	fail "static local counter.calls not recorded with owner"
grep -q '^func record .*vars=hist' dump && fail "record refers to hist directly (bump inlined?)"
grep -q '^func bump .*vars=hist' dump || fail "bump does not list hist"
echo "names: ok"
