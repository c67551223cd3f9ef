#!/usr/bin/env bash
# Builds hotpatch and runs the whole test suite: a -Werror build with every
# test, then an ASan+UBSan build that runs the unit tests again.
# Usage: scripts/test.sh [ctest arguments...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh"

jobs=$(nproc)
build=${HP_BUILD_DIR:-$root/build/test}
asan=${HP_ASAN_BUILD_DIR:-$root/build/asan}

cmake -S "$root" -B "$build" -DHP_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$jobs"

if [[ ${HP_SKIP_ASAN:-0} != 1 ]]; then
	echo "== unit tests under ASan+UBSan"
	# Only the unit tests run here; the fuzzers are built (sanitized) by
	# the first build already.
	cmake -S "$root" -B "$asan" -DHP_WERROR=ON -DHP_SANITIZE=ON -DHP_BUILD_FUZZERS=OFF \
		-DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build "$asan" -j "$jobs"
	(cd "$asan" && ctest --output-on-failure -L unit -j "$jobs")
fi

echo "== full suite"
cd "$build"
ctest --output-on-failure -j "$jobs" "$@"
