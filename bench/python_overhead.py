#!/usr/bin/env python3
"""The Python module's overhead per estimate over the C++ call it makes.

    PYTHONPATH=build/ci/python /usr/bin/python3 bench/python_overhead.py

C++: RunCommand("infer", ...) timed in a C++ loop (the --json text built).
Python: suanli.infer(**kw) (keywords to text, the GIL released, a Result
wrapping the text), and infer_many per request; to_dict() (json.loads) is
timed apart, as a caller that keeps a few numbers may not need it.
Both sides count this thread's CPU time (other processes on a shared machine
do not count); prints the best of 7 rounds."""
import statistics
import time

import suanli
from suanli import _suanli

KW = dict(hardware="h20", model="llama-3.1-70b", input_tokens=2048, output_tokens=512, tp=8, batch=16)
N = 3000
c = suanli.default_catalog()
args = [(k, str(v)) for k, v in KW.items()]


def per_call(f, n=N):
    t = time.thread_time()  # this thread's CPU time, as the C++ side measures
    f(n)
    return (time.thread_time() - t) / n


def loop_infer(n):
    for _ in range(n):
        suanli.infer(**KW)


def loop_dict(n):
    r = suanli.infer(**KW)
    for _ in range(n):
        r.to_dict()


def many(n):
    suanli.infer_many([KW] * n, threads=1)


rounds = {"cpp": [], "py": [], "many": [], "to_dict": []}
for _ in range(7):
    rounds["cpp"].append(_suanli.time_run(c._c, "infer", args, N))
    rounds["py"].append(per_call(loop_infer))
    rounds["many"].append(per_call(many))
    rounds["to_dict"].append(per_call(loop_dict))
m = {k: min(v) * 1e6 for k, v in rounds.items()}
print(f"C++ RunCommand(infer):          {m['cpp']:7.2f} us")
print(f"suanli.infer(**kw):             {m['py']:7.2f} us  -> overhead {m['py'] - m['cpp']:5.2f} us per estimate")
print(f"suanli.infer_many, per request: {m['many']:7.2f} us  -> overhead {m['many'] - m['cpp']:5.2f} us per estimate")
print(f"Result.to_dict() (json.loads):  {m['to_dict']:7.2f} us  (paid only by callers that read the result)")
