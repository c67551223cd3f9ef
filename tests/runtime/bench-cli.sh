#!/usr/bin/env bash
# CLI speed: apply+revert cycles per second through the hotpatch CLI into
# an engine whose 3 worker threads run through the patched functions, and
# the wall time of one apply, side by side:
#   separate CLI runs  one `hotpatch apply` and one `hotpatch revert` each
#                      cycle (process start-up included);
#   one client         `hotpatch rehearse` (the CLI's connection per
#                      operation, without process start-up).
# The in-process numbers are bench-runtime's.
# Usage: bench-cli.sh WORK [CYCLES]   (HP_* from the environment)
set -euo pipefail
work=$1 cycles=${2:-500}
source "$(dirname "$0")/lib.sh"
begin_work

build_fix_a
st=$work/state
start_target target "$st"
expect_state "$st" "3 2"

now_ns() { date +%s%N; }
: >apply.ns
t0=$(now_ns)
for ((i = 0; i < cycles; i++)); do
	a=$(now_ns)
	"$H" apply "$pid" a.hpk >/dev/null
	echo $(($(now_ns) - a)) >>apply.ns
	"$H" revert "$pid" >/dev/null
done
t1=$(now_ns)
expect_state "$st" "3 2"
rehearse=$("$H" rehearse "$pid" a.hpk $((cycles * 4)))
expect_state "$st" "3 2"
alive "$pid"
python3 - "$cycles" "$t0" "$t1" apply.ns "$rehearse" <<'PY'
import re, statistics, sys
cycles, t0, t1 = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
applies = sorted(int(l) for l in open(sys.argv[4]))
us = float(re.search(r"\(([0-9.]+) us per cycle\)", sys.argv[5]).group(1))
print(f"separate CLI runs: {cycles / ((t1 - t0) / 1e9):.0f} apply+revert cycles/s, "
      f"one apply {statistics.median(applies) / 1e6:.2f} ms median, "
      f"p90 {applies[len(applies) * 9 // 10] / 1e6:.2f} ms (wall, CLI start-up included)")
print(f"one client (rehearse): {1e6 / us:.0f} apply+revert cycles/s ({us:.0f} us per cycle)")
PY
echo "PASS"
