"""`suanli sweep`: design-space sweeps, on this machine or on a Dask cluster.

    suanli sweep SWEEP.yaml --out FILE.csv [--scheduler ADDRESS] [--resume]
    python3 -m suanli.sweep SWEEP.yaml --out FILE.csv ...      (the same)

A sweep file names a command (infer, train, classify, compare, ... any the
library registers), fixed request fields, and axes: request fields (models,
plans, workloads) and what-if chip figures (`chip.compute.fp8`,
`chip.memory.bandwidth`, any figure of a chip file), taken as a grid or as
seeded random samples. Each point becomes one request; each result one row
(CSV or JSON lines) with the point's coordinates and the chosen outputs.

Rows are written in point order, a chunk at a time, with a checkpoint beside
the output; `--resume` after any stop (kill -9 included) continues where the
last whole chunk ended, and the file ends as an uninterrupted run's would.
Locally the points run on every core (the library's threads); with
--scheduler, chunks of points are tasks on a Dask distributed cluster whose
workers import this module.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import math
import os
import random
import sys
import tempfile
import time

import suanli

KEYS = {"command", "mode", "samples", "seed", "chip", "fields", "axes", "outputs", "chunk"}
DEFAULT_OUTPUTS = {
    "infer": ["fits", "ttft_s", "tpot_s", "output_tokens_per_s", "output_tokens_per_s_per_device",
              "output_tokens_per_s_per_kw", "bound.prefill", "bound.decode"],
    "train": ["fits", "step_time_s", "mfu", "tokens_per_s", "memory.total_bytes", "bound", "plan.tp", "plan.pp",
              "plan.dp"],
    "classify": ["tpp", "performance_density", "category", "controlled"],
}
MAX_POINTS = 10_000_000


class SweepError(Exception):
    """A problem with the sweep file or the command line: exit 2."""


# --- Reading the sweep file (with lines for messages) ---

def _load(path: str):
    import yaml  # Debian python3-yaml
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise SweepError(f"{path}: cannot read: {e.strerror}") from None
    try:
        node = yaml.compose(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else path
        raise SweepError(f"{where}: not YAML: {getattr(e, 'problem', e)}") from None
    lines: dict = {}

    def walk(n, key):
        lines[key] = n.start_mark.line + 1
        if isinstance(n, yaml.MappingNode):
            return {k.value: walk(v, f"{key}.{k.value}" if key else k.value) for k, v in n.value}
        if isinstance(n, yaml.SequenceNode):
            return [walk(v, f"{key}[{i}]") for i, v in enumerate(n.value)]
        return yaml.safe_load(yaml.serialize(n))

    data = walk(node, "") if node is not None else None
    return data, lines, text


class Sweep:
    """A checked sweep file: its points, their requests and the row of a result."""

    def __init__(self, path: str):
        data, lines, text = _load(path)
        self.path = path
        self.sha256 = hashlib.sha256(text.encode()).hexdigest()
        self._lines = lines

        def fail(key, message):
            line = lines.get(key)
            raise SweepError(f"{path}:{line}: {key}: {message}" if line else f"{path}: {key}: {message}")

        if not isinstance(data, dict):
            raise SweepError(f"{path}: expected a mapping of {', '.join(sorted(KEYS))}")
        for k in data:
            if k not in KEYS:
                fail(k, f"not a sweep key (expected one of {', '.join(sorted(KEYS))})")
        tables = suanli.commands()
        self.command = data.get("command")
        if self.command not in tables or not tables[self.command]["runnable"]:
            fail("command", f"expected one of {', '.join(n for n, t in tables.items() if t['runnable'])}, "
                            f"found {self.command!r}")
        field_keys = [f["key"] for f in tables[self.command]["fields"]]
        self.fields = data.get("fields") or {}
        if not isinstance(self.fields, dict):
            fail("fields", "expected a mapping of request fields")
        for k in self.fields:
            if k not in field_keys:
                fail(f"fields.{k}", f"not a field of {self.command} (its fields: {', '.join(field_keys)})")
        chip = data.get("chip")
        self.chip_base = None
        if chip is not None:
            if not isinstance(chip, dict) or set(chip) - {"base"} or not isinstance(chip.get("base"), str):
                fail("chip", "expected {base: CHIP_ID}: the catalog chip the what-if chips extend")
            self.chip_base = chip["base"]
        axes = data.get("axes")
        if not isinstance(axes, dict) or not axes:
            fail("axes", "expected a mapping of at least one axis (a request field or chip.FIGURE)")
        self.mode = data.get("mode", "grid")
        if self.mode not in ("grid", "random"):
            fail("mode", f"expected grid or random, found {self.mode!r}")
        self.axes = []  # (name, values or None, spec)
        for name, spec in axes.items():
            key = f"axes.{name}"
            if name.startswith("chip."):
                if self.chip_base is None:
                    fail(key, "a chip axis needs `chip: {base: CHIP_ID}`")
                if not all(part.isidentifier() for part in name[5:].split(".")):
                    fail(key, "expected chip.SECTION.FIGURE, e.g. chip.compute.fp8 or chip.memory.bandwidth")
            elif name not in field_keys:
                fail(key, f"not a field of {self.command} nor chip.FIGURE (its fields: {', '.join(field_keys)})")
            elif name in self.fields:
                fail(key, "also given under fields")
            elif name == "hardware" and self.chip_base is not None:
                fail(key, "hardware is the what-if chip here (chip.base)")
            self.axes.append(self._axis(name, spec, key, fail))
        if self.chip_base is not None and "hardware" in self.fields:
            fail("fields.hardware", "hardware is the what-if chip here (chip.base)")
        if self.chip_base is not None and not any(a[0].startswith("chip.") for a in self.axes):
            fail("chip", "no chip.FIGURE axis: remove chip, or sweep a chip figure")
        self.outputs = data.get("outputs", DEFAULT_OUTPUTS.get(self.command))
        if not isinstance(self.outputs, list) or not self.outputs or not all(isinstance(o, str) for o in self.outputs):
            fail("outputs", "expected a list of result keys (dotted paths into the command's --json, e.g. bound.decode)")
        self.chunk = data.get("chunk", 64)
        if not isinstance(self.chunk, int) or isinstance(self.chunk, bool) or not 1 <= self.chunk <= 100000:
            fail("chunk", "expected a whole number of points per task from 1 to 100000")
        if self.mode == "grid":
            if "samples" in data or "seed" in data:
                fail("samples" if "samples" in data else "seed", "only for mode: random")
            self.size = math.prod(len(a[1]) for a in self.axes)
        else:
            self.samples = data.get("samples")
            if not isinstance(self.samples, int) or isinstance(self.samples, bool) or self.samples < 1:
                fail("samples", "expected a whole number of points (mode: random)")
            self.seed = data.get("seed", 0)
            if not isinstance(self.seed, int) or isinstance(self.seed, bool):
                fail("seed", "expected a whole number")
            self.size = self.samples
        if self.size > MAX_POINTS:
            fail("axes", f"{self.size:,} points: more than {MAX_POINTS:,}")
        self.columns = ["point"] + [a[0] for a in self.axes] + self.outputs + ["warnings", "error"]

    @staticmethod
    def _axis(name, spec, key, fail):
        if isinstance(spec, list):
            spec = {"values": spec}
        if not isinstance(spec, dict):
            fail(key, "expected a list of values, or {values: [...]} or {from: A, to: B, steps: N}")
        unit = spec.get("unit", "")
        if not isinstance(unit, str):
            fail(f"{key}.unit", "expected a unit, e.g. TFLOPS, TB/s, GiB")
        if "values" in spec:
            extra = set(spec) - {"values", "unit"}
            values = spec["values"]
            if extra:
                fail(f"{key}.{sorted(extra)[0]}", "not with values")
            if not isinstance(values, list) or not values:
                fail(f"{key}.values", "expected a list of at least one value")
            return (name, values, {"unit": unit})
        for k in ("from", "to", "steps"):
            if k not in spec:
                fail(key, f"missing '{k}' (or give values)")
        extra = set(spec) - {"from", "to", "steps", "unit", "log"}
        if extra:
            fail(f"{key}.{sorted(extra)[0]}", "expected from, to, steps, unit or log")
        a, b, n, log = spec["from"], spec["to"], spec["steps"], spec.get("log", False)
        for k, v in (("from", a), ("to", b)):
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
                fail(f"{key}.{k}", f"expected a number, found {v!r}")
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 1_000_000:
            fail(f"{key}.steps", "expected a whole number from 1 to 1000000")
        if log and (a <= 0 or b <= 0):
            fail(key, "log: from and to must be positive")
        if n == 1:
            values = [a]
        elif log:
            values = [a * (b / a) ** (i / (n - 1)) for i in range(n)]
        else:
            values = [a + (b - a) * i / (n - 1) for i in range(n)]
        if all(isinstance(x, int) for x in (a, b)) and all(float(v).is_integer() for v in values):
            values = [int(v) for v in values]
        return (name, values, {"unit": unit, "range": (a, b), "log": bool(log)})

    # --- Points ---

    def point(self, i: int) -> dict:
        """The coordinates of point i (grid: row-major, the last axis fastest; random: seeded)."""
        if self.mode == "grid":
            coords = {}
            for name, values, _ in reversed(self.axes):
                i, j = divmod(i, len(values))
                coords[name] = values[j]
            return {a[0]: coords[a[0]] for a in self.axes}
        rng = random.Random(f"{self.seed}:{i}")
        out = {}
        for name, values, spec in self.axes:
            if "range" in spec:
                a, b = spec["range"]
                u = rng.random()
                v = a * (b / a) ** u if spec["log"] else a + (b - a) * u
                out[name] = round(v, 6)
            else:
                out[name] = values[rng.randrange(len(values))]
        return out

    def request(self, coords: dict, chips: "WhatIfChips") -> dict:
        req = dict(self.fields)
        figures = {k[5:]: (v, self._unit(k)) for k, v in coords.items() if k.startswith("chip.")}
        for k, v in coords.items():
            if not k.startswith("chip."):
                req[k] = v
        if self.chip_base is not None:
            req["hardware"] = chips.id(self.chip_base, figures)
        return req

    def _unit(self, axis: str) -> str:
        return next(a[2]["unit"] for a in self.axes if a[0] == axis)

    def row(self, i: int, coords: dict, result) -> dict:
        row = {"point": i, **coords}
        if isinstance(result, Exception):
            row.update({o: None for o in self.outputs})
            row["warnings"] = ""
            row["error"] = str(result)
            return row
        data = result.to_dict()
        for o in self.outputs:
            v = data
            for part in o.split("."):
                if isinstance(v, list) and part.isdigit():
                    v = v[int(part)] if int(part) < len(v) else None
                else:
                    v = v.get(part) if isinstance(v, dict) else None
            row[o] = v
        row["warnings"] = "; ".join(w["code"] for w in result.warnings)
        row["error"] = ""
        return row


class WhatIfChips:
    """The what-if chips of a chunk's points, one per distinct set of figures: built by
    the library from the base chip and the figures (suanli.run_many's chips), no file."""

    def __init__(self):
        self.specs: dict = {}

    def id(self, base: str, figures: dict) -> str:
        key = (base, tuple(sorted(figures.items())))
        spec = self.specs.get(key)
        if spec is None:
            digest = hashlib.sha256(repr(key).encode()).hexdigest()[:16]
            words = ", ".join(f"{k} {v:g}{' ' + u if u else ''}" if isinstance(v, (int, float)) else f"{k} {v}"
                              for k, (v, u) in sorted(figures.items()))
            text = {k: f"{v:g} {u}".strip() if isinstance(v, (int, float)) else str(v)
                    for k, (v, u) in sorted(figures.items())}
            spec = self.specs[key] = {"id": f"{base}-what-if-{digest}", "base": base,
                                      "name": f"{base} what-if: {words}", "figures": text}
        return spec["id"]

    def used(self, requests: list) -> list:
        ids = {r.get("hardware") for r in requests}
        return [s for s in self.specs.values() if s["id"] in ids]


_CHIPS: WhatIfChips | None = None
_SWEEPS: dict = {}


def run_chunk(sweep_path: str, sweep_sha: str, sweep_text: str, start: int, stop: int, threads: int = 0) -> list:
    """The rows of points [start, stop): what a Dask task runs (the sweep travels as text)."""
    global _CHIPS
    sweep = _SWEEPS.get(sweep_sha)
    if sweep is None:
        d = tempfile.mkdtemp(prefix="suanli-sweep-")
        p = os.path.join(d, os.path.basename(sweep_path))
        with open(p, "w", encoding="utf-8") as f:
            f.write(sweep_text)
        sweep = _SWEEPS[sweep_sha] = Sweep(p)
    if _CHIPS is None:
        _CHIPS = WhatIfChips()
    coords = [sweep.point(i) for i in range(start, stop)]
    requests = [sweep.request(c, _CHIPS) for c in coords]
    results = suanli.run_many(sweep.command, requests, threads=threads, errors="return", chips=_CHIPS.used(requests))
    for r in results:
        if isinstance(r, RuntimeError) and not isinstance(r, suanli.InputError):
            raise r
    return [sweep.row(i, c, r) for i, c, r in zip(range(start, stop), coords, results)]


# --- Output, checkpoint, progress ---

class Output:
    def __init__(self, path: str, columns: list):
        self.path = path
        self.columns = columns
        self.jsonl = path.endswith((".jsonl", ".json", ".ndjson"))

    def encode(self, rows: list, header: bool) -> bytes:
        if self.jsonl:
            return "".join(json.dumps(r, sort_keys=False) + "\n" for r in rows).encode()
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=self.columns, lineterminator="\n")
        if header:
            w.writeheader()
        for r in rows:
            w.writerow({k: "" if v is None else ("true" if v else "false") if isinstance(v, bool) else v
                        for k, v in r.items()})
        return buf.getvalue().encode()


def _write_checkpoint(path: str, state: dict):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class Progress:
    def __init__(self, total: int, start_at: int):
        self.total = total
        self.start_at = start_at
        self.t0 = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def update(self, done: int):
        if not self.tty:
            return
        now = time.monotonic()
        if now - self.last < 0.1 and done < self.total:
            return
        self.last = now
        rate = (done - self.start_at) / max(now - self.t0, 1e-9)
        eta = (self.total - done) / rate if rate > 0 else float("inf")
        width = 30
        filled = int(width * done / max(self.total, 1))
        sys.stderr.write(f"\r[{'#' * filled}{' ' * (width - filled)}] {done:,}/{self.total:,} points, "
                         f"{rate:,.0f}/s, ETA {eta:,.0f} s ")
        sys.stderr.flush()

    def summary(self, done: int, out: str):
        took = time.monotonic() - self.t0
        rate = (done - self.start_at) / max(took, 1e-9)
        if self.tty:
            sys.stderr.write("\n")
        resumed = f" (resumed at {self.start_at:,})" if self.start_at else ""
        sys.stderr.write(f"suanli sweep: {done:,} points{resumed} in {took:.1f} s ({rate:,.0f}/s) -> {out}\n")


def run(sweep_path: str, out: str, scheduler: str | None = None, resume: bool = False, threads: int = 0) -> int:
    sweep = Sweep(sweep_path)
    with open(sweep_path, encoding="utf-8") as f:
        text = f.read()
    output = Output(out, sweep.columns)
    ckpt_path = out + ".checkpoint"
    start_at, offset = 0, 0
    if resume and os.path.exists(ckpt_path):
        try:
            with open(ckpt_path) as f:
                state = json.load(f)
        except (OSError, ValueError):
            raise SweepError(f"{ckpt_path}: not a sweep checkpoint; remove it and {out} to start again") from None
        if state.get("sweep_sha256") != sweep.sha256:
            raise SweepError(f"--resume: {ckpt_path} is of another sweep file (or it changed); "
                             f"remove it and {out} to start again")
        start_at, offset = int(state["points_done"]), int(state["bytes"])
        if not os.path.exists(out) or os.path.getsize(out) < offset:
            raise SweepError(f"--resume: {out} is shorter than its checkpoint says; remove both to start again")
    elif os.path.exists(out) and not resume:
        raise SweepError(f"--out: {out} exists (--resume continues the sweep that wrote it; or remove it)")
    elif resume and os.path.exists(out):
        raise SweepError(f"--resume: {out} exists without a checkpoint ({ckpt_path}); remove it to start again")

    f = open(out, "r+b" if offset else "wb")
    f.truncate(offset)  # rows after the last checkpoint (a chunk cut short) go
    f.seek(offset)
    progress = Progress(sweep.size, start_at)
    done = start_at

    def commit(rows: list):
        nonlocal done, offset
        data = output.encode(rows, header=(offset == 0))
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
        offset += len(data)
        done += len(rows)
        _write_checkpoint(ckpt_path, {"sweep_sha256": sweep.sha256, "points_done": done, "bytes": offset,
                                      "total": sweep.size, "complete": done == sweep.size})
        progress.update(done)

    chunks = [(s, min(s + sweep.chunk, sweep.size)) for s in range(start_at, sweep.size, sweep.chunk)]
    try:
        if scheduler is None:
            for s, e in chunks:
                commit(run_chunk(sweep_path, sweep.sha256, text, s, e, threads))
        else:
            _run_dask(scheduler, sweep, sweep_path, text, chunks, commit)
    finally:
        f.close()
    progress.summary(done, out)
    return 0


def _run_dask(address: str, sweep: Sweep, sweep_path: str, text: str, chunks: list, commit):
    try:
        from distributed import Client, as_completed  # Debian python3-distributed
    except ImportError:
        raise SweepError("--scheduler needs Dask distributed (Debian: apt-get install python3-distributed)") from None
    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError) as e:
        raise SweepError(f"--scheduler: cannot reach a Dask scheduler at {address}: {e}") from None
    try:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        window = 4 * workers  # chunks in flight at once
        pending: dict = {}
        ready: dict = {}
        todo = iter(chunks)
        nxt = chunks[0][0] if chunks else 0
        ac = as_completed()

        def submit():
            for s, e in todo:
                fut = client.submit(run_chunk, sweep_path, sweep.sha256, text, s, e, 1, key=f"suanli-sweep-{sweep.sha256[:12]}-{s}",
                                    pure=False)
                pending[fut] = s
                ac.add(fut)
                if len(pending) >= window:
                    return

        submit()
        for fut in ac:
            s = pending.pop(fut)
            ready[s] = fut.result()  # a task's exception is raised here
            while nxt in ready:
                rows = ready.pop(nxt)
                commit(rows)
                nxt += len(rows)
            submit()
    finally:
        client.close()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="suanli sweep", description=__doc__.split("\n\n")[0])
    p.add_argument("sweep", help="the sweep file (YAML)")
    p.add_argument("--out", required=True, help="rows: FILE.csv, or FILE.jsonl for JSON lines")
    p.add_argument("--scheduler", help="a Dask distributed scheduler (tcp://HOST:PORT); default: this machine")
    p.add_argument("--resume", action="store_true", help="continue the sweep that wrote --out from its checkpoint")
    p.add_argument("--threads", type=int, default=0, help="local threads (default: every core)")
    args = p.parse_args(argv)
    try:
        return run(args.sweep, args.out, args.scheduler, args.resume, args.threads)
    except SweepError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except suanli.InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nsuanli sweep: stopped; --resume continues it", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
