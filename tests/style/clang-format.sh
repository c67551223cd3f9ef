#!/usr/bin/env bash
# The house style is the root .clang-format, checked: every C and C++ file
# the project tracks must be formatted. Test inputs whose exact text matters
# (sources compiled by tests, the sample engine the fix diffs apply to) are
# left as they are written. Usage: clang-format.sh ROOT CLANG_FORMAT
set -euo pipefail
root=$1 clang_format=$2
cd "$root"
bad=0
while IFS= read -r f; do
	if ! "$clang_format" --dry-run -Werror "$f" >/dev/null 2>&1; then
		echo "not formatted: $f (run: $clang_format -i $f)"
		bad=1
	fi
done < <(git ls-files '*.c' '*.h' '*.cc' '*.cpp' | grep -v -E '^tests/.*/(inputs|cases|plugin_cases|consumer)/')
exit "$bad"
