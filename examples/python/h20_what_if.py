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

# %% The plot: TPP against performance density of each what-if chip, coloured by
# its category, with the rule set's thresholds (from its catalog record) drawn.
# Plain SVG, no plotting package needed: written to the first argument, or
# beside the what-if chips (README: docs/images/h20-what-if-3a090.svg).
import sys


def thresholds(node, out):
    if not node:
        return
    if "metric" in node:
        out.add((node["metric"], node["threshold"]))
    for child in node.get("all", []) + node.get("any", []):
        thresholds(child, out)


lines = set()
for cat in catalog.record("us-2023-10")["categories"]:
    thresholds(cat.get("when"), lines)
W, H, L, B = 640, 400, 60, 50  # size and the left and bottom margins
x0, x1 = 1500, 7500
y0, y1 = 1.0, 9.0


def px(tpp):
    return L + (tpp - x0) / (x1 - x0) * (W - L - 20)


def py(pd):
    return H - B - (pd - y0) / (y1 - y0) * (H - B - 20)


colours = {"not-3A090": "#2f7d32", "3A090.b": "#e08a00", "3A090.a.1": "#c62828", "3A090.a.2": "#8e24aa"}
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
       f'<rect width="{W}" height="{H}" fill="#fff"/>',
       f'<text x="{W / 2}" y="14" text-anchor="middle" font-size="13">H20 with 1x-3x its dense FP8 rate under '
       f'us-2023-10</text>',
       f'<line x1="{L}" y1="{H - B}" x2="{W - 20}" y2="{H - B}" stroke="#000"/>',
       f'<line x1="{L}" y1="20" x2="{L}" y2="{H - B}" stroke="#000"/>',
       f'<text x="{W / 2}" y="{H - 12}" text-anchor="middle">TPP</text>',
       f'<text x="14" y="{H / 2}" text-anchor="middle" transform="rotate(-90 14 {H / 2})">performance density</text>']
for t in range(2000, 7501, 1000):
    svg.append(f'<text x="{px(t)}" y="{H - B + 15}" text-anchor="middle">{t}</text>')
for d in range(2, 10, 2):
    svg.append(f'<text x="{L - 6}" y="{py(d) + 4}" text-anchor="end">{d}</text>')
for metric, v in sorted(lines):
    if metric == "tpp" and x0 <= v <= x1:
        svg.append(f'<line x1="{px(v)}" y1="20" x2="{px(v)}" y2="{H - B}" stroke="#555" stroke-dasharray="5,4"/>'
                   f'<text x="{px(v) + 3}" y="30">TPP {v:g}</text>')
    elif metric == "performance_density" and y0 <= v <= y1:
        svg.append(f'<line x1="{L}" y1="{py(v)}" x2="{W - 20}" y2="{py(v)}" stroke="#555" stroke-dasharray="2,3"/>'
                   f'<text x="{W - 22}" y="{py(v) - 3}" text-anchor="end">PD {v:g}</text>')
for f, tpp, pd, cat in rows:
    svg.append(f'<circle cx="{px(tpp):.1f}" cy="{py(pd):.1f}" r="5" fill="{colours.get(cat, "#1565c0")}">'
               f'<title>{f:g}x FP8: TPP {tpp:.0f}, PD {pd:.2f}, {cat}</title></circle>')
for i, cat in enumerate(dict.fromkeys(r[3] for r in rows)):
    svg.append(f'<circle cx="{W - 130}" cy="{H - B - 120 + 16 * i}" r="5" fill="{colours.get(cat, "#1565c0")}"/>'
               f'<text x="{W - 120}" y="{H - B - 116 + 16 * i}">{cat}</text>')
svg.append("</svg>")
plot = sys.argv[1] if len(sys.argv) > 1 else os.path.join(workdir, "h20-what-if-3a090.svg")
with open(plot, "w") as f:
    f.write("\n".join(svg) + "\n")
print("plot:", plot)

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
