"""`suanli sweep`: points and rows, errors with file, line and key (exit 2),
and a sweep on a Dask LocalCluster of two workers killed with kill -9 and
resumed, ending with the same rows as an uninterrupted run."""
import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest

import suanli
from suanli import sweep

BIN = os.environ.get("SUANLI_BIN", "")
REPO = os.environ.get("SUANLI_REPO", os.path.join(os.path.dirname(__file__), "..", ".."))


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def run_sweep(*args, check=True):
    cmd = [BIN, "sweep", *args] if BIN else [sys.executable, "-m", "suanli.sweep", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if check:
        assert out.returncode == 0, out
    return out


GRID = """command: infer
chip: {base: h20}
fields: {model: llama-3.1-8b, input_tokens: 512, output_tokens: 64}
axes:
  chip.memory.bandwidth: {from: 2, to: 8, steps: 4, unit: TB/s}
  batch: [1, 8]
outputs: [ttft_s, tpot_s, output_tokens_per_s, bound.decode]
chunk: 3
"""


def test_grid_rows_are_the_library_answers(tmp_path):
    f = write(tmp_path, "grid.yaml", GRID)
    out = str(tmp_path / "grid.csv")
    r = run_sweep(f, "--out", out)
    # Not a terminal: one summary line, no progress bar.
    assert len(r.stderr.splitlines()) == 1 and r.stderr.startswith("suanli sweep: 8 points in "), r.stderr
    got = rows(out)
    assert [g["point"] for g in got] == [str(i) for i in range(8)]
    assert [(g["chip.memory.bandwidth"], g["batch"]) for g in got[:3]] == [("2", "1"), ("2", "8"), ("4", "1")]
    # Point 5: 6 TB/s, batch 8, against the library on a chip file written by hand.
    chip = write(tmp_path, "h20-6tb.yaml", "id: h20-6tb\nextends: h20\nname: H20 6 TB/s\nmemory:\n"
                 "  bandwidth: {value: 6 TB/s, basis: estimated, source: [WHAT_IF]}\n")
    want = suanli.infer(hardware=chip, model="llama-3.1-8b", input_tokens=512, output_tokens=64, batch=8)
    assert float(got[5]["tpot_s"]) == want.tpot_s and got[5]["bound.decode"] == want.bound.decode
    slow, fast = float(got[1]["tpot_s"]), float(got[7]["tpot_s"])
    assert fast < slow  # more bandwidth, faster memory-bound decode


def test_a_terminal_gets_a_progress_bar_with_rate_and_eta(tmp_path):
    import pty
    f = write(tmp_path, "grid.yaml", GRID)
    cmd = [BIN, "sweep"] if BIN else [sys.executable, "-m", "suanli.sweep"]
    master, slave = pty.openpty()
    p = subprocess.Popen(cmd + [f, "--out", str(tmp_path / "grid.csv")], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    data = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the sweep closed the terminal
            break
        if not chunk:
            break
        data += chunk
    os.close(master)
    assert p.wait(timeout=120) == 0, data
    text = data.decode()
    bars = [b for b in text.replace("\r\n", "\n").split("\r") if b.startswith("[")]
    assert bars, text
    last = bars[-1].splitlines()[0]
    assert last.startswith("[" + "#" * 30 + "] 8/8 points, ") and "/s, ETA 0 s" in last, last
    assert text.rstrip().splitlines()[-1].startswith("suanli sweep: 8 points in "), text


QUANTITIES = [  # the quantity a sweep computes: the best plan of a training search, serving at an SLA, cost
    ("command: train\nchip: {base: h100-sxm}\nfields: {model: llama-3.1-8b, devices: 64, seq_len: 4096, "
     "global_batch: 256, search: true, top: 1}\naxes:\n  chip.memory.bandwidth: [\"3350 GB/s\", \"6700 GB/s\"]\n"
     "outputs: [top.0.mfu, top.0.step_time_s]\n",
     lambda: suanli.train(hardware="h100-sxm", model="llama-3.1-8b", devices=64, seq_len=4096, global_batch=256,
                          search=True, top=1).top[0].step_time_s, "top.0.step_time_s"),
    ("command: serve\nchip: {base: h20}\nfields: {model: llama-3.1-8b, input_tokens: 512, output_tokens: 64, "
     "requests: 200, sla_ttft: 1, sla_tpot: 0.05, max_rate: true}\naxes:\n"
     "  chip.memory.bandwidth: {from: 4, to: 8, steps: 2, unit: TB/s}\noutputs: [max_rate_requests_per_s]\n",
     lambda: suanli.serve(hardware="h20", model="llama-3.1-8b", input_tokens=512, output_tokens=64, requests=200,
                          sla_ttft=1, sla_tpot=0.05, max_rate=True).max_rate_requests_per_s, "max_rate_requests_per_s"),
    ("command: cost\nchip: {base: h20}\nfields: {model: llama-3.1-8b, input_tokens: 1000, output_tokens: 200, "
     "batch: 16, price_usd: 15000}\naxes:\n  chip.memory.bandwidth: {from: 4, to: 8, steps: 2, unit: TB/s}\n"
     "outputs: [usd_per_million_output_tokens]\n",
     lambda: suanli.cost(hardware="h20", model="llama-3.1-8b", input_tokens=1000, output_tokens=200, batch=16,
                         price_usd=15000).usd_per_million_output_tokens, "usd_per_million_output_tokens"),
]


@pytest.mark.parametrize("text,direct,column", QUANTITIES, ids=["train-search-best", "serve-at-sla", "cost"])
def test_each_quantity_a_sweep_computes(tmp_path, text, direct, column):
    """Point 0 sets the base chip's own figure: its row is the library's answer for the catalog chip."""
    f = write(tmp_path, "q.yaml", text)
    out = str(tmp_path / "q.csv")
    run_sweep(f, "--out", out)
    got = rows(out)
    assert len(got) == 2 and all(g["error"] == "" for g in got), got
    assert float(got[0][column]) == pytest.approx(direct(), rel=1e-12)
    assert float(got[1][column]) != float(got[0][column])  # the what-if figure moves it


def test_random_is_seeded_and_jsonl(tmp_path):
    f = write(tmp_path, "r.yaml", "command: classify\nmode: random\nsamples: 12\nseed: 7\nchip: {base: h20}\n"
              "fields: {rules: us-2023-10}\naxes:\n  chip.compute.fp8: {from: 296, to: 900, steps: 2, unit: TFLOPS}\n"
              "outputs: [tpp, category]\n")
    a, b = str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")
    run_sweep(f, "--out", a)
    run_sweep(f, "--out", b)
    la = [json.loads(x) for x in open(a)]
    assert open(a).read() == open(b).read() and len(la) == 12
    for row in la:
        assert 296 <= row["chip.compute.fp8"] <= 900
        assert row["tpp"] == pytest.approx(8 * row["chip.compute.fp8"], rel=1e-5)


def test_a_point_the_library_refuses_is_a_row_with_its_error(tmp_path):
    f = write(tmp_path, "e.yaml", "command: infer\nfields: {hardware: h20, model: llama-3.1-70b, input_tokens: 8, "
              "output_tokens: 8}\naxes:\n  tp: [1, 3]\noutputs: [tpot_s]\n")
    out = str(tmp_path / "e.csv")
    run_sweep(f, "--out", out)
    got = rows(out)
    assert got[0]["error"] == "" and float(got[0]["tpot_s"]) > 0
    assert got[1]["tpot_s"] == "" and got[1]["error"].startswith("tp:")


BAD = [
    ("command: infer\nbogus: 1\naxes: {batch: [1]}\n", ":2: bogus: not a sweep key"),
    ("command: nothing\naxes: {batch: [1]}\n", ":1: command: expected one of"),
    ("command: infer\naxes:\n  chip.compute.fp8: [1]\n", ":3: axes.chip.compute.fp8: a chip axis needs"),
    ("command: infer\naxes:\n  batch: {from: 1, to: 8}\n", ":3: axes.batch: missing 'steps'"),
    ("command: infer\naxes:\n  batch: {from: 1, to: 8, steps: 0}\n", "axes.batch.steps: expected a whole number"),
    ("command: infer\nmode: random\naxes: {batch: [1]}\n", "samples: expected a whole number"),
    ("command: infer\nmode: sobol\naxes: {batch: [1]}\n", ":2: mode: expected grid or random"),
    ("command: infer\nfields: {tpp: 1}\naxes: {batch: [1]}\n", "fields.tpp: not a field of infer"),
    ("command: infer\naxes: {batch: [1]}\noutputs: ttft_s\n", ":3: outputs: expected a list"),
    ("command: infer\naxes: {}\n", "axes: expected a mapping of at least one axis"),
    ("command: [infer\n", "not YAML"),
]


@pytest.mark.parametrize("text,message", BAD)
def test_bad_sweep_files_exit_2_naming_line_and_key(tmp_path, text, message):
    f = write(tmp_path, "bad.yaml", text)
    out = str(tmp_path / "o.csv")
    r = run_sweep(f, "--out", out, check=False)
    assert r.returncode == 2, r
    assert r.stderr.startswith("error: " + f) and message in r.stderr, r.stderr
    assert not os.path.exists(out)  # nothing half-written


def test_out_and_resume_refusals(tmp_path):
    f = write(tmp_path, "g.yaml", GRID)
    out = str(tmp_path / "g.csv")
    run_sweep(f, "--out", out)
    r = run_sweep(f, "--out", out, check=False)
    assert r.returncode == 2 and "exists" in r.stderr
    before = open(out).read()
    r = run_sweep(f, "--out", out, "--resume")  # complete: nothing to do, the same rows
    assert open(out).read() == before
    write(tmp_path, "g.yaml", GRID.replace("steps: 4", "steps: 5"))
    r = run_sweep(f, "--out", out, "--resume", check=False)
    assert r.returncode == 2 and "another sweep file" in r.stderr
    r = run_sweep(str(tmp_path / "none.yaml"), "--out", str(tmp_path / "n.csv"), check=False)
    assert r.returncode == 2 and "cannot read" in r.stderr
    r = run_sweep(f, "--out", str(tmp_path / "d.csv"), "--scheduler", "tcp://127.0.0.1:1", check=False)
    assert r.returncode == 2 and "cannot reach a Dask scheduler" in r.stderr


def test_example_sweeps_run(tmp_path):
    for name in ("h20-what-if.yaml", "h20-what-if-3a090.yaml"):
        out = str(tmp_path / (name + ".csv"))
        run_sweep(os.path.join(REPO, "examples", "sweep", name), "--out", out)
        got = rows(out)
        assert got and all(g["error"] == "" for g in got)
    cats = [g["results.1.category"] for g in rows(str(tmp_path / "h20-what-if-3a090.yaml.csv"))]
    assert cats[0] == "not-3A090" and cats[-1] == "3A090.a.1" and "3A090.b" in cats


KILL = """command: classify
chip: {base: h20}
fields: {rules: us-2023-10}
axes:
  chip.compute.fp8: {from: 100, to: 1000, steps: 60, unit: TFLOPS}
  chip.die_area: {from: 400, to: 900, steps: 25, unit: mm2}
outputs: [tpp, performance_density, category]
chunk: 10
"""


def test_dask_kill_9_and_resume_gives_the_uninterrupted_rows(tmp_path):
    distributed = pytest.importorskip("distributed")
    f = write(tmp_path, "k.yaml", KILL)
    ref = str(tmp_path / "ref.csv")
    run_sweep(f, "--out", ref)  # local, uninterrupted
    total = 60 * 25
    assert len(rows(ref)) == total
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster:
        out = str(tmp_path / "dask.csv")
        cmd = [BIN, "sweep"] if BIN else [sys.executable, "-m", "suanli.sweep"]
        p = subprocess.Popen(cmd + [f, "--out", out, "--scheduler", cluster.scheduler_address],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        ckpt = out + ".checkpoint"
        done = 0
        deadline = time.time() + 120
        while time.time() < deadline and p.poll() is None:
            try:
                done = json.load(open(ckpt))["points_done"]
            except (OSError, ValueError, KeyError):
                done = 0
            if done >= 100:
                break
            time.sleep(0.005)
        assert p.poll() is None, "the sweep ended before it could be killed: " + p.stderr.read().decode()
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        state = json.load(open(ckpt))
        assert 0 < state["points_done"] < total and not state["complete"]
        r = run_sweep(f, "--out", out, "--resume", "--scheduler", cluster.scheduler_address)
        assert f"resumed at {state['points_done']:,}" in r.stderr
    assert open(out, "rb").read() == open(ref, "rb").read()
    assert json.load(open(out + ".checkpoint"))["complete"] is True
