# Helpers shared by the runtime's shell tests. Sourced; expects HP_* from
# the environment (tests/runtime/CMakeLists.txt sets them).

HP_CFLAGS=(-O2 -g -fpatchable-function-entry=10,8 -falign-functions=16 -Wl,--build-id)
pids=()
tmpdirs=()

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "-- $*"; }

cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	# Until each is dead (gone, or a zombie): a killed engine still
	# running writes its state file into a directory rm is emptying.
	for p in "${pids[@]}"; do
		for _ in $(seq 250); do
			[[ -e /proc/$p ]] || break
			[[ $(cut -d')' -f2 "/proc/$p/stat" 2>/dev/null) == " Z"* ]] && break
			sleep 0.02
		done
	done
	rm -rf "${tmpdirs[@]}"
}
trap cleanup EXIT

# other_user_dir: sets $other_dir to a fresh directory under /tmp that every
# user can enter, for whatever a test hands to another user. The build tree
# is no place for it: a clone inside a 0700 directory (mktemp -d) is out of
# their reach however its own modes are set. Removed on exit.
other_user_dir() {
	other_dir=$(mktemp -d /tmp/hp-runtime.XXXXXX) || fail "cannot create a directory in /tmp"
	tmpdirs+=("$other_dir")
	chmod 755 "$other_dir"
}

# begin_work: an empty $work as the working directory, the sockets in a
# private directory of it (HOTPATCH_RUNDIR), and H the CLI.
begin_work() {
	rm -rf "${work:?}" && mkdir -p "$work" && cd "$work"
	export HOTPATCH_RUNDIR=$work/run
	mkdir -m 700 "$HOTPATCH_RUNDIR"
	H=$HP_CLI
}

# build_target NAME [extra cflags...]: the engine, linked with libhotpatch.
build_target() {
	local name=$1; shift
	"$HP_CLANG" "${HP_CFLAGS[@]}" "$@" -pthread "$HP_DATA/target.c" -o "$name" \
		-Wl,--no-as-needed -L"$(dirname "$HP_RUNTIME_LIB")" -lhotpatch \
		-Wl,-rpath,"$(dirname "$HP_RUNTIME_LIB")"
}

# build_fix_a: the engine (./target) and fix a (a.hpk: compute and helper
# replaced, factor reached through a proxy).
build_fix_a() {
	build_target target
	build_patch patch_a.c a.so
	"$HP_MKPKG" target a.so a.hpk --func compute --func helper --proxy __hp_proxy.factor=factor
}

# build_patch SRC OUT.so [extra cflags...]
build_patch() {
	local src=$1 out=$2; shift 2
	"$HP_CLANG" "${HP_CFLAGS[@]}" "$@" -fPIC -shared -nostartfiles -Wl,-Bsymbolic \
		-Wl,-T,"$HP_PACKAGE_LD" "$HP_DATA/$src" -o "$out"
}

# start_target BIN STATE [env...]: runs it in the background, sets $pid.
start_target() {
	local bin=$1 state=$2; shift 2
	rm -f "$state"
	env "$@" "./$bin" "$state" 3 &
	pid=$!
	pids+=("$pid")
	disown "$pid"
	for _ in $(seq 200); do
		[[ -S "$HOTPATCH_RUNDIR/hotpatch-$(id -u)/$pid.sock" && -f "$state" ]] && return 0
		sleep 0.02
	done
	fail "target $bin did not start its listener"
}

# expect_state STATE "COMPUTE HELPER": waits until the engine reports it.
expect_state() {
	local state=$1 want=$2 got=""
	for _ in $(seq 250); do
		got=$(cut -d' ' -f1,2 "$state" 2>/dev/null || true)
		[[ $got == "$want" ]] && return 0
		sleep 0.02
	done
	fail "expected '$want', engine reports '$got'"
}

alive() { kill -0 "$1" 2>/dev/null || fail "target $1 died"; }

# expect_fail WHAT REGEX cmd...: the command must fail with one line on
# stderr matching REGEX.
expect_fail() {
	local what=$1 re=$2; shift 2
	local out rc=0
	out=$("$@" 2>&1 >/dev/null) || rc=$?
	[[ $rc -ne 0 ]] || fail "$what: succeeded"
	[[ $(printf '%s\n' "$out" | wc -l) -eq 1 ]] || fail "$what: not one line: $out"
	[[ $out =~ $re ]] || fail "$what: message '$out' does not match /$re/"
	note "$what: $out"
}
