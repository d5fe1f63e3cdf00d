#!/usr/bin/env python3
"""The Python module's overhead per estimate over the C++ call it makes.

    PYTHONPATH=build/ci/python /usr/bin/python3 bench/python_overhead.py
    PYTHONPATH=build/ci/python /usr/bin/python3 bench/python_overhead.py --instructions [N]

C++: RunCommand("infer", ...) timed in a C++ loop (the --json text built).
Python: suanli.infer(**kw) (keywords to Args, the GIL released, the text
moved into a Result), and infer_many per request; to_dict() (json.loads) is
timed apart, as a caller that keeps a few numbers may not need it.

Timing (the default) counts this thread's CPU time on both sides (other
processes on a shared machine do not count) and prints the best of 7 rounds;
it still means little on a loaded machine. --instructions counts instead:
each loop is run under `valgrind --tool=callgrind` (the whole python
process) with N and with 2N calls, and a call's cost is the difference over
N, so loading the catalog and starting Python cancel out. Exact on any
machine; convert to time with a quiet machine's ns per instruction."""
import os
import re
import subprocess
import sys
import tempfile
import time

import suanli
from suanli import _suanli

KW = dict(hardware="h20", model="llama-3.1-70b", input_tokens=2048, output_tokens=512, tp=8, batch=16)
N = 3000
ARGS = [(k, str(v)) for k, v in KW.items()]


def loop_infer(n):
    infer = suanli.infer
    for _ in range(n):
        infer(**KW)


def loop_dict(n):
    r = suanli.infer(**KW)
    for _ in range(n):
        r.to_dict()


def loop_many(n):
    suanli.infer_many([KW] * n, threads=1)


def loop_cpp(n):
    _suanli.time_run(suanli.default_catalog()._c, "infer", ARGS, n)


LOOPS = {"cpp": loop_cpp, "py": loop_infer, "many": loop_many, "to_dict": loop_dict}


def per_call(f, n=N):
    t = time.thread_time()  # this thread's CPU time, as the C++ side measures
    f(n)
    return (time.thread_time() - t) / n


def timing():
    c = suanli.default_catalog()
    rounds = {k: [] for k in LOOPS}
    for _ in range(7):
        rounds["cpp"].append(_suanli.time_run(c._c, "infer", ARGS, N))
        for k in ("py", "many", "to_dict"):
            rounds[k].append(per_call(LOOPS[k]))
    m = {k: min(v) * 1e6 for k, v in rounds.items()}
    print(f"C++ RunCommand(infer):          {m['cpp']:7.2f} us")
    print(f"suanli.infer(**kw):             {m['py']:7.2f} us  -> overhead {m['py'] - m['cpp']:5.2f} us per estimate")
    print(f"suanli.infer_many, per request: {m['many']:7.2f} us  -> overhead {m['many'] - m['cpp']:5.2f} us per estimate")
    print(f"Result.to_dict() (json.loads):  {m['to_dict']:7.2f} us  (paid only by callers that read the result)")


def instructions(kind, n):
    """Instructions of this script running `kind` n times (warm: one call first), under callgrind."""
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "cg.out")
        r = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
                            os.path.abspath(__file__), "--loop", kind, str(n)], capture_output=True, text=True,
                           env={**os.environ, "PYTHONHASHSEED": "0"})  # the same dict layouts every run
        if r.returncode != 0:
            sys.exit(f"callgrind failed: {r.stderr[-2000:]}")
        m = re.search(r"Collected : (\d+)", r.stderr)
        return int(m.group(1))


def count(n):
    per = {}
    for kind in LOOPS:
        a, b = instructions(kind, n), instructions(kind, 2 * n)
        per[kind] = (b - a) / n
        print(f"{kind:8s} N={n}: {a:,}  2N: {b:,}  -> {per[kind]:,.0f} instructions per call", flush=True)
    print(f"suanli.infer(**kw) overhead: {per['py'] - per['cpp']:,.0f} instructions per estimate "
          f"({100 * (per['py'] - per['cpp']) / per['cpp']:.1f} % of the C++ call's {per['cpp']:,.0f})")
    print(f"suanli.infer_many overhead:  {per['many'] - per['cpp']:,.0f} instructions per estimate")
    print(f"Result.to_dict():            {per['to_dict']:,.0f} instructions")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--loop":
        kind, n = sys.argv[2], int(sys.argv[3])
        LOOPS[kind](1)  # warm: the catalog loaded, the first call's caches filled
        LOOPS[kind](n)
    elif len(sys.argv) >= 2 and sys.argv[1] == "--instructions":
        count(int(sys.argv[2]) if len(sys.argv) > 2 else 1000)
    else:
        timing()
