#!/usr/bin/env bash
# Every way an apply must be refused: a one-line reason, non-zero exit, and
# the engine running the original code, still alive, with no patch listed.
set -euo pipefail
work=$1
source "$(dirname "$0")/lib.sh"
rm -rf "$work" && mkdir -p "$work" && cd "$work"
# The sockets live outside the build tree, where the another-user cases at
# the end can reach them.
other_user_dir
export HOTPATCH_RUNDIR=$other_dir/run
mkdir "$HOTPATCH_RUNDIR"
H=$HP_CLI

build_target target
build_patch patch_a.c a.so
mk() { "$HP_MKPKG" target a.so "$@" --func compute --proxy __hp_proxy.factor=factor; }
mk good.hpk
st=$work/state
start_target target "$st" HOTPATCH_TEST_APPLY_DELAY_MS=1500
expect_state "$st" "3 2"

unchanged() {
	alive "$pid"
	expect_state "$st" "3 2"
	"$H" list "$pid" | grep -q "no patches applied" || fail "a patch is listed"
}

# Byte offset of the manifest (its magic) in a package.
manifest_at() { grep -obUa HPATCHPK "$1" | head -1 | cut -d: -f1; }
poke() { printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }

size=$(stat -c %s good.hpk)
head -c $((size - 100)) good.hpk > truncated.hpk
expect_fail "truncated" "truncated" "$H" apply "$pid" truncated.hpk; unchanged

cp good.hpk corrupt.hpk; poke corrupt.hpk 4200 '\x55'
expect_fail "corrupted byte" "checksum mismatch" "$H" apply "$pid" corrupt.hpk; unchanged

m=$(manifest_at good.hpk)
cp good.hpk magic.hpk; poke magic.hpk "$m" 'X'
expect_fail "wrong magic" "magic" "$H" apply "$pid" magic.hpk; unchanged

cp good.hpk version.hpk; poke version.hpk $((m + 8)) '\x63'
expect_fail "wrong version" "version 99 not supported" "$H" apply "$pid" version.hpk; unchanged

head -c 4096 /dev/urandom > random.hpk
expect_fail "not a package" "not an ELF" "$H" apply "$pid" random.hpk; unchanged

mk buildid.hpk --bad-build-id
expect_fail "build-id of another program" "is not loaded in this process" \
	"$H" apply "$pid" buildid.hpk; unchanged

mk hash.hpk --bad-hash
expect_fail "expected bytes mismatch" "hash mismatch" "$H" apply "$pid" hash.hpk; unchanged

"$HP_MKPKG" target a.so unpatchable.hpk --func compute --func unpatchable=helper
expect_fail "target not patchable" "'unpatchable'.*is not patchable" \
	"$H" apply "$pid" unpatchable.hpk; unchanged

mk outside.hpk --target-delta 0x10000000
expect_fail "target offset outside the image" "outside the executable segments" \
	"$H" apply "$pid" outside.hpk; unchanged

mk proxy.hpk --proxy-target 0x7ffffff000
expect_fail "proxy offset outside the image" "proxy 'factor'.*outside the segments" \
	"$H" apply "$pid" proxy.hpk; unchanged

# Nothing of a package runs before it is verified: one with a constructor
# (it would abort the target) is refused before the loader sees it.
build_patch patch_ctor.c ctor.so -I"$HP_DATA"
"$HP_MKPKG" target ctor.so ctor.hpk --func compute --proxy __hp_proxy.factor=factor
expect_fail "package with a constructor" "initialisation or finalisation code" \
	"$H" apply "$pid" ctor.hpk; unchanged

# A replacement that points into the package's .plt (executable, but not a
# function) is refused.
build_patch patch_plt.c plt.so -I"$HP_DATA" # calls getpid(): it has a .plt
plt=$(readelf -SW plt.so | awk '{ for (i = 1; i < NF; i++) if ($i == ".plt") print "0x" $(i + 2) }')
[[ -n $plt ]] || fail "plt.so has no .plt"
"$HP_MKPKG" target plt.so plt.hpk --func compute --replacement-at "$plt" \
	--proxy __hp_proxy.factor=factor
expect_fail "replacement in .plt" "replacement offset .* outside the package's code" \
	"$H" apply "$pid" plt.hpk; unchanged

expect_fail "package is a directory" "not a regular file" "$H" apply "$pid" "$work"
mkfifo fifo
expect_fail "package is a fifo" "not a regular file" "$H" apply "$pid" fifo
expect_fail "package missing" "cannot open" "$H" apply "$pid" missing.hpk
expect_fail "PID does not exist" "no process with PID" "$H" list 999999999
expect_fail "PID runs no runtime" "runs no hotpatch runtime" "$H" list $$
# a socket left behind by a process that ended, under a PID now running
# something else: said as such, not as "nothing listening"
/usr/bin/python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \
	"$HOTPATCH_RUNDIR/hotpatch-$(id -u)/$$.sock"
expect_fail "socket left behind" "is left over from a process that ended" "$H" list $$
rm -f "$HOTPATCH_RUNDIR/hotpatch-$(id -u)/$$.sock"
unchanged

# Second apply while the first is still verifying (the test hook makes
# each apply take 1.5 s).
"$H" apply "$pid" good.hpk > first.out 2>&1 &
first=$!
sleep 0.4
expect_fail "second concurrent apply" "busy" "$H" apply "$pid" good.hpk
wait "$first" || fail "first apply failed: $(cat first.out)"
expect_state "$st" "1003 2"
"$H" revert "$pid" >/dev/null
unchanged

# The package is read once into a sealed in-memory copy, and that copy is
# what is verified and mapped: rewriting the file after the apply changes
# nothing in the process, and applying the rewritten file is a new package,
# verified anew.
cp good.hpk inplace.hpk
"$H" apply "$pid" inplace.hpk >/dev/null || fail "apply of inplace.hpk"
expect_state "$st" "1003 2"
grep -q 'memfd:hotpatch-package' "/proc/$pid/maps" || fail "the package is not mapped from its sealed copy"
grep -q "$work/inplace.hpk" "/proc/$pid/maps" && fail "the package file itself is mapped"
poke inplace.hpk 4200 '\x55'
expect_state "$st" "1003 2"
expect_fail "rewritten package applied again" "checksum mismatch" "$H" apply "$pid" inplace.hpk
"$H" revert "$pid" >/dev/null || fail "revert after the package file was rewritten"
unchanged

# A request carrying two descriptors is refused, and neither stays open in
# the engine: 50 such requests leave its descriptor count as it was.
sock_of_pid=$HOTPATCH_RUNDIR/hotpatch-$(id -u)/$pid.sock
fds_before=$(ls "/proc/$pid/fd" | wc -l)
status=$(/usr/bin/python3 "$(dirname "$0")/wire_fds.py" "$sock_of_pid" 50 2)
[[ $status == -4117 ]] || fail "a request with 2 descriptors answered status '$status', want -4117 (HP_EPROTO)"
fds_after=$(ls "/proc/$pid/fd" | wc -l)
((fds_after <= fds_before)) || fail "descriptors leaked: $fds_before open before, $fds_after after"
unchanged

# Clients that connect and say nothing wait on their own: with three of
# them connected (each would hold a single listener for its 5 s receive
# timeout), list is still answered at once, well within the bound below.
/usr/bin/python3 "$(dirname "$0")/wire_fds.py" "$sock_of_pid" idle 3 30 >idle.out &
idlers=$!
for _ in $(seq 250); do grep -q open idle.out && break; sleep 0.02; done
grep -q open idle.out || fail "the idle clients did not connect"
timeout 10 "$H" list "$pid" >/dev/null || fail "list waited behind idle clients (or failed)"
kill "$idlers" 2>/dev/null || true
wait "$idlers" 2>/dev/null || true
unchanged

# The engine at RLIMIT_NOFILE: one descriptor left for the connection, none
# for the package. The reason says so (not "malformed request").
if command -v prlimit >/dev/null; then
	limits=$(prlimit --pid "$pid" --nofile --output SOFT,HARD --noheadings)
	# the lowest free descriptor number is the only one left below the limit
	free=0
	while [[ -e /proc/$pid/fd/$free ]]; do free=$((free + 1)); done
	prlimit --pid "$pid" --nofile=$((free + 1)):"$(awk '{ print $2 }' <<<"$limits")"
	expect_fail "engine out of descriptors" "no free file descriptor to receive the package" \
		"$H" apply "$pid" good.hpk
	prlimit --pid "$pid" --nofile="$(awk '{ print $1 ":" $2 }' <<<"$limits")"
	unchanged
fi

# A rehearse request with a count out of range, or without the package:
# refused with the reason, nothing applied.
for arg in 0 abc 100000001 -1 ""; do
	out=$(python3 "$(dirname "$0")/wire_fds.py" "$sock_of_pid" rehearse "$arg" good.hpk)
	[[ $out == -* && $out == *"rehearse: cycle count out of range"* ]] ||
		fail "rehearse request with count '$arg': $out"
done
out=$(python3 "$(dirname "$0")/wire_fds.py" "$sock_of_pid" rehearse 3 -)
[[ $out == -*"without a package descriptor"* ]] || fail "rehearse request without a package: $out"
unchanged

# Usage errors exit 2.
for args in "" "bogus 1" "apply" "apply abc x" "list 1 2" "--nope list 1" \
	"rehearse --priority bogus 1 x" "rehearse --priority" "rehearse 1 x 0" \
	"rehearse --priority lowest 1" "rehearse --cpu 0 1 x" "rehearse --cpu 101 1 x" \
	"rehearse --cpu abc 1 x" "rehearse --cpu"; do
	rc=0; "$H" $args >/dev/null 2>&1 || rc=$?
	[[ $rc -eq 2 ]] || fail "'hotpatch $args' exited $rc, want 2"
done
"$H" --help | grep -q "usage:" || fail "--help"

# An empty PATCH name is refused, not taken as "the most recent": a
# script's unset variable must not revert some other patch.
"$H" apply "$pid" good.hpk >/dev/null
for who in "$pid" "--exe $work/target"; do
	rc=0
	# shellcheck disable=SC2086 # "--exe PATH" is two words
	out=$("$H" revert $who "" 2>&1) || rc=$?
	[[ $rc -eq 2 && $out == *"empty PATCH name"* ]] ||
		fail "'hotpatch revert $who \"\"' exited $rc: $out"
	"$H" list "$pid" | grep -q "no patches applied" && fail "revert $who \"\" reverted a patch"
done
"$H" revert "$pid" >/dev/null
unchanged

# Another user. They run a copy of the CLI with a copy of the package from
# $other_dir, since the build tree may be out of their reach. The 0700
# hotpatch-0 directory stops them first; then, with it and the socket opened
# up, SO_PEERCRED must stop them too.
if [[ $(id -u) -eq 0 ]] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	run=$HOTPATCH_RUNDIR
	sock=$run/hotpatch-0/$pid.sock
	install -m 755 "$H" "$other_dir/hotpatch"
	install -m 644 good.hpk "$other_dir/good.hpk"
	chmod 755 "$run"
	# env execs the CLI once setpriv's kept capabilities are gone, so the
	# checks below see exactly what user nobody can reach.
	as_nobody=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups
		env -C "$other_dir")
	"${as_nobody[@]}" ./hotpatch --version >/dev/null ||
		fail "user nobody cannot run $other_dir/hotpatch"
	"${as_nobody[@]}" test -x "$run" || fail "user nobody cannot enter $run"
	"${as_nobody[@]}" test -r good.hpk || fail "user nobody cannot read $other_dir/good.hpk"
	expect_fail "peer of another user (directory)" \
		"permission denied connecting to process $pid " \
		"${as_nobody[@]}" ./hotpatch list "$pid"
	chmod 755 "$run/hotpatch-0"; chmod 666 "$sock"
	expect_fail "peer of another user (credentials)" "peer uid [0-9]+ is neither root nor the owner" \
		"${as_nobody[@]}" ./hotpatch apply "$pid" good.hpk
	chmod 700 "$run/hotpatch-0"; chmod 600 "$sock"
	unchanged

	# A process that changes its user after the runtime started (nginx's
	# workers): its socket stays in root's directory, and the CLI finds it
	# there; patching it works.
	dropdir=$other_dir/drop
	mkdir "$dropdir" && chmod 1777 "$dropdir"
	HP_TEST_DROP_UID=$(id -u nobody) ./target "$dropdir/state" 3 2>drop.err &
	dpid=$!
	pids+=("$dpid")
	for _ in $(seq 250); do
		[[ -s $dropdir/state && $(stat -c %u "/proc/$dpid") == "$(id -u nobody)" ]] && break
		sleep 0.02
	done
	[[ $(stat -c %u "/proc/$dpid") == "$(id -u nobody)" ]] || fail "the target did not become nobody: $(cat drop.err)"
	"$H" apply "$dpid" good.hpk >/dev/null || fail "apply to a process that became nobody"
	expect_state "$dropdir/state" "1003 2"
	"$H" revert "$dpid" >/dev/null || fail "revert in a process that became nobody"
	expect_state "$dropdir/state" "3 2"
	kill "$dpid" 2>/dev/null || true

	# A spoofed socket directory: user nobody makes hotpatch-0 in a shared
	# run directory before the server starts and listens there for it. The
	# server says it is not listening; the CLI refuses to send anything.
	spoof=$other_dir/spoof
	mkdir "$spoof" && chmod 1777 "$spoof"
	"${as_nobody[@]}" mkdir -m 0777 "$spoof/hotpatch-0"
	HOTPATCH_RUNDIR=$spoof ./target spoof.state 3 2>spoof.err &
	spid=$!
	pids+=("$spid")
	for _ in $(seq 250); do
		grep -q "not listening for patches" spoof.err && [[ -s spoof.state ]] && break
		sleep 0.02
	done
	grep -q "hotpatch: not listening for patches: the socket directory is not ours" spoof.err ||
		fail "the runtime did not say it cannot listen in a directory of another user: $(cat spoof.err)"
	# nobody's listener: records whatever reaches it, for at most 10 s
	listener='import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1); s.settimeout(10)
open(sys.argv[2], "w").write("listening\n")
try:
    c, _ = s.accept(); open(sys.argv[2], "a").write("connected\n"); c.recv(64)
    c.sendall(b"applied patch 1\n")
except socket.timeout:
    pass'
	"${as_nobody[@]}" /usr/bin/python3 -c "$listener" "$spoof/hotpatch-0/$spid.sock" "$spoof/spoof.log" &
	fake=$!
	for _ in $(seq 250); do [[ -s $spoof/spoof.log ]] && break; sleep 0.02; done
	[[ -s $spoof/spoof.log ]] || fail "the spoofing listener did not start"
	HOTPATCH_RUNDIR=$spoof expect_fail "spoofed socket directory" \
		"refusing to talk to process $spid: '$spoof/hotpatch-0' is not a directory of uid 0" \
		"$H" apply "$spid" good.hpk
	grep -q connected "$spoof/spoof.log" && fail "the CLI connected to the spoofing listener"
	kill "$fake" 2>/dev/null || true
	kill "$spid" 2>/dev/null || true

	# A listener in the right directory that is not the target process: the
	# CLI checks the peer's pid as well as its uid.
	sleep 30 &
	idle=$!
	/usr/bin/python3 -c "$listener" "$run/hotpatch-0/$idle.sock" "$work/impostor.log" &
	fake=$!
	for _ in $(seq 250); do [[ -s $work/impostor.log ]] && break; sleep 0.02; done
	expect_fail "listener that is not the target" \
		"refusing to talk to process $idle: its socket is held by process $fake" \
		"$H" list "$idle"
	kill "$fake" "$idle" 2>/dev/null || true
	rm -f "$run/hotpatch-0/$idle.sock"
	unchanged
else
	echo "SKIP: peer of another user (needs root, setpriv and user nobody)"
fi
alive "$pid"
echo PASS
