#!/usr/bin/env bash
# The target at RLIMIT_NOFILE: its main thread holds every descriptor but
# K (HP_TEST_FD_HOG in target.c). list and status are still answered (the
# runtime keeps one descriptor in reserve for a connection); apply and
# revert fail with one line naming the fd limit, whichever of their steps
# ran out (receiving the package, the sealed copy, the loader,
# /proc/self/maps), and leave the code bytes, the list and the engine's
# results exactly as they were. Once the descriptors are free again, a
# clean apply and revert work.
set -euo pipefail
work=$1
source "$(dirname "$0")/lib.sh"
begin_work

build_fix_a
st=$work/state
limit=64
H=("$HP_CLI" --timeout 20)

# code: the padding and first 24 bytes of compute() and helper(), read
# from outside (/proc/PID/mem takes no descriptor of the target).
code() {
	python3 - "$pid" "$work/target" <<'EOF'
import subprocess, sys
pid, exe = sys.argv[1], sys.argv[2]
base = min(int(l.split()[0].split('-')[0], 16) for l in open(f'/proc/{pid}/maps')
           if l.split()[-1] == exe)
addr = {}
for l in subprocess.run(['nm', exe], capture_output=True, text=True).stdout.splitlines():
    f = l.split()
    if len(f) == 3 and f[2] in ('compute', 'helper'):
        addr[f[2]] = int(f[0], 16)
with open(f'/proc/{pid}/mem', 'rb') as mem:
    for n in ('compute', 'helper'):
        mem.seek(base + addr[n] - 8)
        print(n, mem.read(32).hex())
EOF
}
listing() { "${H[@]}" list "$pid" | cut -f1,2,4-; }

# wait_report TEXT: until the target's STATE.fds says TEXT (at most 10 s).
wait_report() {
	local got=""
	for _ in $(seq 500); do
		got=$(cat "$st.fds" 2>/dev/null || true)
		[[ $got == "$1" ]] && return 0
		alive "$pid"
		sleep 0.02
	done
	fail "the target reports '$got' about its descriptors, expected '$1'"
}
# hog K: the target leaves exactly K descriptors free; unhog: frees them.
hog() {
	echo "$1" >hog.tmp && mv hog.tmp hog
	wait_report "hogging $1"
}
unhog() {
	rm -f hog
	wait_report "released"
}
# free_fds: the target's free descriptors, counted from outside: numbers
# below the limit not open, but one (the listener blocked in accept()
# holds a number that /proc does not show).
free_fds() {
	local open
	open=$(ls "/proc/$pid/fd" | awk -v l=$limit '$1 < l' | wc -l)
	echo $((limit - open - 1))
}

start_target target "$st" HP_TEST_FD_HOG="$work/hog"
prlimit --pid "$pid" --nofile=$limit:$limit
grep -q "^Max open files *$limit *$limit" "/proc/$pid/limits" || fail "prlimit did not take"
expect_state "$st" "3 2"

before_code=$(code)
before_list=$(listing)
lim="RLIMIT_NOFILE $limit"

# ---- no patch applied ----
hog 0
(($(free_fds) == 0)) || fail "hog 0 left $(free_fds) descriptors free"
out=$("${H[@]}" list "$pid") || fail "list at the fd limit failed: $out"
[[ $out == "no patches applied" ]] || fail "list at the fd limit: $out"
out=$("${H[@]}" status "$pid") || fail "status at the fd limit failed: $out"
grep -q "^warning: the process is at its file descriptor limit ($lim, 0 free; an apply needs up to 2 more)$" <<<"$out" ||
	fail "status does not warn of the fd limit: $out"
out=$("${H[@]}" --json status "$pid") || fail "status --json at the fd limit failed: $out"
python3 -c 'import json, sys; w = json.loads(sys.argv[1]).get("warning", ""); sys.exit(0 if "file descriptor limit" in w else 1)' "$out" ||
	fail "status --json does not warn of the fd limit: $out"
expect_fail "apply, 0 free" \
	"^hotpatch: the process has no free file descriptor to receive the package \($lim reached\)$" \
	"${H[@]}" apply "$pid" a.hpk
(($(free_fds) == 0)) || fail "a failed apply left $(free_fds) descriptors free, not 0"

# one free: the connection takes it without the reserve
unhog && hog 1
expect_fail "apply, 1 free" \
	"^hotpatch: the process has no free file descriptor to receive the package \($lim reached\)$" \
	"${H[@]}" apply "$pid" a.hpk
(($(free_fds) == 1)) || fail "a failed apply left $(free_fds) descriptors free, not 1"

# two: the package arrives, its sealed copy cannot be made
unhog && hog 2
expect_fail "apply, 2 free" \
	"^hotpatch: cannot make a sealed copy of the package: Too many open files: the process is at its file descriptor limit \($lim, 0 free; an apply needs up to 2 more\)$" \
	"${H[@]}" apply "$pid" a.hpk

# three: the sealed copy is made, the loader cannot open it
unhog && hog 3
expect_fail "apply, 3 free" \
	"^hotpatch: cannot load package: .*Too many open files: the process is at its file descriptor limit \($lim, 1 free; an apply needs up to 2 more\)$" \
	"${H[@]}" apply "$pid" a.hpk
(($(free_fds) == 3)) || fail "a failed load left $(free_fds) descriptors free, not 3"
alive "$pid"
[[ $(code) == "$before_code" ]] || fail "code changed by failed applies"
[[ $(listing) == "$before_list" ]] || fail "list changed by failed applies: $(listing)"
unhog
expect_state "$st" "3 2"

# ---- a patch applied; revert at the limit ----
"${H[@]}" apply "$pid" a.hpk >/dev/null || fail "apply with descriptors free"
expect_state "$st" "1003 6"
applied_code=$(code)
applied_list=$(listing)
hog 0
expect_fail "revert, 0 free" \
	"^hotpatch: cannot read /proc/self/maps: Too many open files: the process is at its file descriptor limit \($lim, 0 free; a revert needs up to 1 more\)$" \
	"${H[@]}" revert "$pid"
out=$("${H[@]}" status "$pid") || fail "status with a patch at the fd limit failed: $out"
grep -q "^warning: the process is at its file descriptor limit ($lim" <<<"$out" ||
	fail "status with a patch does not warn of the fd limit: $out"
expect_fail "apply on top, 0 free" "$lim" "${H[@]}" apply "$pid" a.hpk
[[ $(code) == "$applied_code" ]] || fail "code changed by a failed revert"
[[ $(listing) == "$applied_list" ]] || fail "list changed by a failed revert: $(listing)"
alive "$pid"
unhog
expect_state "$st" "1003 6"
"${H[@]}" revert "$pid" >/dev/null || fail "revert with descriptors free"
expect_state "$st" "3 2"
[[ $(code) == "$before_code" ]] || fail "code after revert differs from the original"
[[ $(listing) == "$before_list" ]] || fail "list after revert: $(listing)"

# ---- and once more, clean ----
"${H[@]}" apply "$pid" a.hpk >/dev/null || fail "second clean apply"
expect_state "$st" "1003 6"
"${H[@]}" revert "$pid" >/dev/null || fail "second clean revert"
expect_state "$st" "3 2"
alive "$pid"
echo "PASS: fdlimit"
