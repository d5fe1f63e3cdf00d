# %% [markdown]
# # How would the H20 fare with more FP8, and where does it cross the 3A090 thresholds?
#
# A notebook-style script (cells marked `# %%`; CI runs it top to bottom):
#
#     PYTHONPATH=build/ci/python python3 examples/python/h20_what_if.py
#
# A what-if chip is a chip file that `extends: h20` and changes one figure
# (cited to the catalog's WHAT_IF source, basis 'estimated'); the library
# reads it like any chip file. `suanli sweep examples/sweep/h20-what-if.yaml`
# runs the same question as a sweep.

# %%
import os
import tempfile

import suanli

catalog = suanli.Catalog.load()
h20 = catalog.chip("h20")
fp8 = h20.figures["compute.fp8"]
print(f"{h20.name}: fp8 {fp8['display']} ({fp8['basis']}, sources {', '.join(fp8['sources'])})")
fp8_tflops = fp8["value"] / 1e12

# %% A what-if chip: the H20 with `factor` times its dense FP8 rate.
workdir = tempfile.mkdtemp(prefix="suanli-what-if-")


def h20_with_fp8(factor: float) -> str:
    path = os.path.join(workdir, f"h20-fp8-x{factor:g}.yaml")
    with open(path, "w") as f:
        f.write(f"id: h20-fp8-x{factor:g}\nextends: h20\nname: NVIDIA H20 with {factor:g}x FP8 (what-if)\n"
                f"compute:\n  fp8: {{value: {fp8_tflops * factor:g} TFLOPS, basis: estimated, source: [WHAT_IF],"
                f" note: \"what-if: {factor:g} x the datasheet rate\"}}\n")
    return path


# %% Serving Llama 3.1 70B in FP8 on 8 chips: the datasheet H20 against 2x FP8.
workload = dict(model="llama-3.1-70b", input_tokens=2048, output_tokens=512, tp=8, batch=16, weights="fp8")
base = suanli.infer(hardware="h20", **workload)
twice = suanli.infer(hardware=h20_with_fp8(2), **workload)
for name, r in (("H20", base), ("H20, 2x FP8", twice)):
    print(f"{name:12s} TTFT {r.ttft_s * 1e3:8.1f} ms  TPOT {r.tpot_s * 1e3:6.2f} ms  "
          f"{r.output_tokens_per_s:8.0f} tok/s  prefill {r.bound.prefill}-bound, decode {r.bound.decode}-bound")
assert twice.ttft_s < base.ttft_s  # a compute-bound prefill gains from the rate
assert twice.tpot_s <= base.tpot_s

# %% Where does it cross the thresholds? Classify the what-if chip as its FP8 rate grows.
factors = [1 + 0.125 * i for i in range(17)]  # 1x .. 3x
results = suanli.classify_many([dict(hardware=h20_with_fp8(f), rules="us-2023-10") for f in factors])
print(f"\n{'fp8 x':>6} {'TPP':>6} {'PD':>5}  category (us-2023-10)")
rows = []
for f, r in zip(factors, results):
    c = r  # one chip under one rule set: one classification
    rows.append((f, c.tpp, c.performance_density, c.category))
    print(f"{f:6.3f} {c.tpp:6.0f} {c.performance_density:5.2f}  {c.category}")
crossings = [(a, b) for a, b in zip(rows, rows[1:]) if a[3] != b[3]]
for a, b in crossings:
    print(f"crosses from {a[3]} to {b[3]} between {a[0]:g}x (TPP {a[1]:.0f}) and {b[0]:g}x (TPP {b[1]:.0f})")
assert rows[0][3] != rows[-1][3], "more FP8 should change the H20's class"

# %% As a table (pandas, when installed) and a plot (matplotlib, when installed).
try:
    import pandas
    print(pandas.DataFrame(rows, columns=["fp8_factor", "tpp", "performance_density", "category"]))
except ImportError:
    print("(pandas not installed: no DataFrame)")
try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    ax.plot([r[1] for r in rows], [r[2] for r in rows], "o-")
    ax.axvline(2400, ls="--")
    ax.axvline(4800, ls="--")
    ax.axhline(5.92, ls=":")
    ax.set_xlabel("TPP")
    ax.set_ylabel("performance density")
    fig.savefig(os.path.join(workdir, "h20-what-if.png"))
    print("plot:", os.path.join(workdir, "h20-what-if.png"))
except ImportError:
    print("(matplotlib not installed: no plot; `suanli web` draws the export-control chart)")
