#!/usr/bin/env bash
# CLI speed: apply+revert cycles per second through the hotpatch CLI into
# an engine whose 3 worker threads run through the patched functions, and
# the wall time of one apply, side by side:
#   separate CLI runs  one `hotpatch apply` and one `hotpatch revert` each
#                      cycle (process start-up included), and /bin/true
#                      started the same way in the same rounds: the floor
#                      any command has on this machine;
#   over the socket    the same requests from one client process
#                      (bench_wire.py): what the CLI waits for once it
#                      has started;
#   batch              the same requests as lines to one `hotpatch batch`
#                      (bench_wire.py --batch): through the CLI, one
#                      process start for all of them;
#   rehearse           the cycles run by the engine itself, a slice per
#                      request: as by default (within 1 % of one CPU) and
#                      flat out (--cpu 100).
# The bench-cli target prints the in-process numbers (test_api) first.
# Usage: bench-cli.sh WORK [CYCLES]   (HP_* from the environment)
set -euo pipefail
work=$1 cycles=${2:-500}
source "$(dirname "$0")/lib.sh"
begin_work

build_fix_a
st=$work/state
start_target target "$st"
expect_state "$st" "3 2"

# Microseconds, without starting a process (bash's own clock).
now_us() { echo "${EPOCHREALTIME/./}"; }
: >apply.us
: >true.us
t0=$(now_us)
for ((i = 0; i < cycles; i++)); do
	a=$(now_us)
	"$H" apply "$pid" a.hpk >/dev/null
	echo $(($(now_us) - a)) >>apply.us
	"$H" revert "$pid" >/dev/null
done
t1=$(now_us)
for ((i = 0; i < cycles; i++)); do
	a=$(now_us)
	/bin/true
	echo $(($(now_us) - a)) >>true.us
done
expect_state "$st" "3 2"
wire=$(python3 "$(dirname "$0")/bench_wire.py" "$HOTPATCH_RUNDIR/hotpatch-$(id -u)/$pid.sock" \
	a.hpk "$cycles")
expect_state "$st" "3 2"
batch=$(python3 "$(dirname "$0")/bench_wire.py" --batch "$H" "$pid" a.hpk "$cycles")
expect_state "$st" "3 2"
lowest=$("$H" rehearse "$pid" a.hpk $((cycles / 5)))
expect_state "$st" "3 2"
program=$("$H" rehearse --cpu 100 "$pid" a.hpk $((cycles * 40)))
expect_state "$st" "3 2"
alive "$pid"
python3 - "$cycles" "$t0" "$t1" apply.us true.us "$lowest" "$program" "$wire" "$batch" <<'PY'
import re, statistics, sys
cycles, t0, t1 = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
applies = sorted(int(l) for l in open(sys.argv[4]))
trues = sorted(int(l) for l in open(sys.argv[5]))
print(f"separate CLI runs: {cycles / ((t1 - t0) / 1e6):.0f} apply+revert cycles/s, "
      f"one apply {statistics.median(applies) / 1e3:.2f} ms median, "
      f"p90 {applies[len(applies) * 9 // 10] / 1e3:.2f} ms (wall, CLI start-up included)")
print(f"/bin/true started the same way: {statistics.median(trues) / 1e3:.2f} ms median")
for how, out in (("over the socket, no process start", sys.argv[8]),
                 ("through one `hotpatch batch`", sys.argv[9])):
    for line in out.splitlines():
        op, value, *p90 = line.split()
        if op == "cycles":
            print(f"{how}: {value} apply+revert cycles/s")
        else:
            print(f"one {op} {how}: {float(value):.2f} ms median, p90 {float(p90[0]):.2f} ms")
for name, out in (("the default (1 % of one CPU)", sys.argv[6]),
                  ("--cpu 100", sys.argv[7])):
    us = float(re.search(r"\(([0-9.]+) us per cycle", out).group(1))
    cpu = re.search(r", ([0-9.]+) % of one CPU", out)
    share = f", {cpu.group(1)} % of one CPU" if cpu else ""
    print(f"rehearse, {name}: {1e6 / us:.0f} apply+revert cycles/s ({us:.1f} us per cycle{share})")
PY
echo "PASS"
