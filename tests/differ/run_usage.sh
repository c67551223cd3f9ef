#!/usr/bin/env bash
# Usage errors exit 2; --help exits 0 and documents the exit statuses.
set -uo pipefail
mkpatch=$1
fail=0
"$mkpatch" >/dev/null 2>&1; [[ $? -eq 2 ]] || { echo "FAIL: no arguments"; fail=1; }
"$mkpatch" a b >/dev/null 2>&1; [[ $? -eq 2 ]] || { echo "FAIL: missing -o"; fail=1; }
"$mkpatch" --bogus a b -o c >/dev/null 2>&1; [[ $? -eq 2 ]] || { echo "FAIL: bad option"; fail=1; }
help=$("$mkpatch" --help); [[ $? -eq 0 ]] || { echo "FAIL: --help status"; fail=1; }
grep -q "3 refused" <<<"$help" && grep -q "4 no change" <<<"$help" || { echo "FAIL: --help lacks exit codes"; fail=1; }
exit $fail
