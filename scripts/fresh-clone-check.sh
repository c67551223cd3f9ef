#!/usr/bin/env bash
# Developer check, not part of ctest (it builds a whole tree): clones this
# repository into a fresh 0700 directory, as a new user's `mktemp -d` would
# be, with ../shared beside the clone as CI has it, builds it and runs the
# tests that act as another user there. No test may depend on the modes of
# the directories above the checkout. It checks what is committed (HEAD),
# not the working tree. Needs root and the dependencies (scripts/deps.sh).
# Usage: scripts/fresh-clone-check.sh [ctest -R regex]   (default: runtime.badinput)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tests=${1:-runtime.badinput}

fail() { echo "FAIL: $*" >&2; exit 1; }

# Without root the another-user cases skip, and this would prove nothing.
[[ $(id -u) -eq 0 ]] || fail "run this as root: the another-user tests skip otherwise"

parent=$(mktemp -d)
trap 'rm -rf "$parent"' EXIT
chmod 700 "$parent"
[[ $(stat -c %a "$parent") == 700 ]] || fail "'$parent' is not mode 0700"

git clone --quiet "$root" "$parent/main"
if [[ -d $root/../shared ]]; then
	ln -s "$(cd "$root/../shared" && pwd -P)" "$parent/shared"
else
	echo "note: no ../shared beside '$root'; the clone gets none"
fi

build=$parent/main/build
echo "== clone of $(git -C "$parent/main" rev-parse --short HEAD) in $parent (mode 0700)"
cmake -S "$parent/main" -B "$build" -DHP_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "${HP_JOBS:-$(nproc)}" >/dev/null

log=$parent/ctest.log
rc=0
(cd "$build" && ctest -R "$tests" --no-tests=error -V) >"$log" 2>&1 || rc=$?
grep -E '^ *[0-9]+/[0-9]+ Test|tests passed' "$log" || true
[[ $rc -eq 0 ]] || { cat "$log" >&2; fail "ctest -R '$tests' failed in a clone under a 0700 directory"; }
if grep -E '^[0-9]+: SKIP' "$log"; then
	fail "a case was skipped, so the clone's location was never put to the test"
fi
echo "PASS: ctest -R '$tests' passes in a clone under a 0700 directory"
