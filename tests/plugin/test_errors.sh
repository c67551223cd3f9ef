# Bad input is a compiler error naming the plugin, never a crash, an ICE or
# a silent success.
. "$(dirname "$0")/lib.sh"
printf 'int f(int x) { return x; }\n' >f.c

expect_error() { # expect_error WHAT PATTERN: last command failed, stderr matched
	grep -q "$2" err || { cat err; fail "$1: no message matching '$2'"; }
	grep -qi 'internal compiler error\|stack dump\|PLEASE submit' err && fail "$1: crash"
	[ ! -s f.o ] || fail "$1: object written"
}

rm -f f.o
if HOTPATCH_PLUGIN_DEBUG=1 hpcc -c f.c -o f.o 2>err; then fail "unknown option accepted"; fi
# (GCC quotes with ‘’, hence the dots)
expect_error "unknown option" "$HP_PLUGIN_NAME: unknown option .HOTPATCH_PLUGIN_DEBUG."

if HOTPATCH_PATCH_SPEC=/nonexistent/spec hpcc -c f.c -o f.o 2>err; then fail "missing spec accepted"; fi
expect_error "missing spec" "$HP_PLUGIN_NAME: cannot read patch spec '/nonexistent/spec'"

printf 'keep f\nreplace g\n' >bad.spec
if HOTPATCH_PATCH_SPEC=$PWD/bad.spec hpcc -c f.c -o f.o 2>err; then fail "bad spec accepted"; fi
expect_error "bad spec" "$HP_PLUGIN_NAME: .*bad.spec:2: expected"

# a plugin file that is not one: the compiler's own error, exit status non-zero
printf 'junk' >fake.so
if is clang; then load_fake=-fpass-plugin=$PWD/fake.so; else load_fake=-fplugin=$PWD/fake.so; fi
if "$HP_CC" $load_fake -c f.c -o f.o 2>err; then fail "junk plugin accepted"; fi
grep -q "fake.so" err || fail "no message naming the plugin file"
grep -qi "internal compiler error\|stack dump\|PLEASE submit" err && fail "crash on bad plugin"
# a real shared object that is not a plugin for this compiler
echo 'int x;' >notplugin.c
"$HP_CC" -shared -fPIC notplugin.c -o notplugin.so
if is clang; then load_fake=-fpass-plugin=$PWD/notplugin.so; else load_fake=-fplugin=$PWD/notplugin.so; fi
if "$HP_CC" $load_fake -c f.c -o f.o 2>err; then fail "non-plugin shared object loaded"; fi
grep -qi "internal compiler error\|stack dump\|PLEASE submit" err && fail "crash on non-plugin"

# GCC only: options the GCC plugin refuses (the Clang plugin takes no
# options at all, and Clang has no -fplugin-arg-*)
if is gcc; then
	gcc_error() { # gcc_error WHAT PATTERN OPTION...
		what=$1 pat=$2
		shift 2
		if hpcc "$@" -c f.c -o f.o 2>err; then fail "$what: compiled"; fi
		expect_error "$what" "$pat"
	}
	gcc_error "unknown key" hotpatch -fplugin-arg-hotpatch-gcc-nosuchkey
	gcc_error "unknown key (short name)" hotpatch -fplugin-arg-hotpatch-nosuchkey=1
	gcc_error "-m32" hotpatch-gcc -m32
	gcc_error "-mx32" hotpatch-gcc -mx32
	gcc_error "-flto" hotpatch-gcc -flto
	gcc_error "-fpatchable-function-entry" hotpatch-gcc -fpatchable-function-entry=4,2
fi

# Link-time optimisation would change code after the metadata was written:
# one clear line naming LTO, no object, for every form of -flto.
lto_error() { # lto_error OPTION...
	rm -f f.o
	if hpcc -O2 "$@" -c f.c -o f.o 2>err; then fail "$* compiled"; fi
	expect_error "$*" "$HP_PLUGIN_NAME: .*-flto.*not supported\|$HP_PLUGIN_NAME: .*link-time optimisation"
	[ "$(grep -c "$HP_PLUGIN_NAME" err)" -le 2 ] || { cat err; fail "$*: more than one message"; }
}
lto_error -flto
if is clang; then
	lto_error -flto=thin
	lto_error -flto=full
	command -v ld.lld-19 >/dev/null && lto_error -flto=thin -fuse-ld=lld
fi
# -fno-lto after -flto is an ordinary build
rm -f f.o
hpcc -O2 -flto -fno-lto -c f.c -o f.o || fail "-flto -fno-lto did not compile"

# and good input still compiles
hpcc -O2 -c f.c -o f.o || fail "plain compile"
[ -s f.o ] || fail "plain compile wrote no object"
echo "errors: ok"
