# Bad input is a compiler error naming the plugin, never a crash or a
# silent success.
. "$(dirname "$0")/lib.sh"
printf 'int f(int x) { return x; }\n' >f.c

expect_error() { # expect_error WHAT PATTERN: last command failed, stderr matched
	grep -q "$2" err || { cat err; fail "$1: no message matching '$2'"; }
	[ ! -s f.o ] || fail "$1: object written"
}

rm -f f.o
if HOTPATCH_PLUGIN_DEBUG=1 hpcc -c f.c -o f.o 2>err; then fail "unknown option accepted"; fi
expect_error "unknown option" "hotpatch-llvm.so: unknown option 'HOTPATCH_PLUGIN_DEBUG'"

if HOTPATCH_PATCH_SPEC=/nonexistent/spec hpcc -c f.c -o f.o 2>err; then fail "missing spec accepted"; fi
expect_error "missing spec" "hotpatch-llvm.so: cannot read patch spec '/nonexistent/spec'"

printf 'keep f\nreplace g\n' >bad.spec
if HOTPATCH_PATCH_SPEC=$PWD/bad.spec hpcc -c f.c -o f.o 2>err; then fail "bad spec accepted"; fi
expect_error "bad spec" "hotpatch-llvm.so: .*bad.spec:2: expected"

# a plugin file that is not one: clang's own error, exit status non-zero
printf 'junk' >fake.so
if "$HP_CC" -fpass-plugin=$PWD/fake.so -c f.c -o f.o 2>err; then fail "junk plugin accepted"; fi
grep -q "fake.so" err || fail "no message naming the plugin file"
grep -qi "stack dump\|PLEASE submit" err && fail "crash on bad plugin"
echo "errors: ok"
