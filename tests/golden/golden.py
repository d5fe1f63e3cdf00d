#!/usr/bin/env python3
"""Golden cases: pinned outputs of suanli commands.

Each case is tests/golden/<area>/<case>.yaml:

    description: what the case pins and why
    command: infer                 # the suanli subcommand
    args: {hardware: h20, tp: 8}   # flags without the leading --; true = a bare flag
    tolerance: 1.0e-9              # relative, for numbers (optional)
    ignore: [search_seconds]       # keys whose values are not compared (optional)
    only: [groups, overall]        # compare only keys under these (optional)
    expected: {ttft_s: 0.24, ...}  # the --json output, flattened to dotted keys

`golden.py check` runs every case (or those named) and fails on any change;
`golden.py approve` rewrites the expected values of the cases named (or all)
from what the binary prints now. Approve on purpose, in a commit that says why.
"""
import argparse
import glob
import json
import math
import os
import subprocess
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_TOLERANCE = 1e-9
ALWAYS_IGNORED = {"search_seconds", "search_s"}


def flatten(value, prefix="", out=None):
    """Nested JSON as {dotted.key: scalar or list of scalars}."""
    if out is None:
        out = {}
    if isinstance(value, dict):
        if not value and prefix:
            out[prefix] = {}
        for k, v in value.items():
            flatten(v, f"{prefix}.{k}" if prefix else k, out)
    elif isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        out[prefix + ".length"] = len(value)
        for i, v in enumerate(value):
            flatten(v, f"{prefix}[{i}]", out)
    else:
        out[prefix] = value
    return out


def validation_dir():
    return os.environ.get("SUANLI_VALIDATION_DIR", os.path.join(os.path.dirname(REPO), "shared", "validation"))


def substitute(text):
    """${VALIDATION} is the development set (../shared/validation, or $SUANLI_VALIDATION_DIR), ${REPO} the repository."""
    return text.replace("${VALIDATION}", validation_dir()).replace("${REPO}", REPO)


def unsubstitute(value):
    """Paths in the output written back as ${REPO} / ${VALIDATION}, so cases hold no machine's paths."""
    if isinstance(value, str):
        return value.replace(validation_dir(), "${VALIDATION}").replace(REPO, "${REPO}")
    if isinstance(value, list):
        return [unsubstitute(v) for v in value]
    return value


def command_line(binary, case):
    argv = [binary, case["command"]]
    for key, value in (case.get("args") or {}).items():
        if key == "_":  # positional arguments
            argv += [substitute(str(v)) for v in (value if isinstance(value, list) else [value])]
            continue
        flag = "--" + key
        if value is True:
            argv.append(flag)
        elif value is False or value is None:
            continue
        else:
            argv += [flag, substitute(str(value))]
    argv.append("--json")
    return argv


def run(binary, case):
    argv = command_line(binary, case)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {' '.join(argv[1:])}\n{proc.stderr.strip()}")
    return {k: unsubstitute(v) for k, v in flatten(json.loads(proc.stdout)).items()}


def same(want, got, tolerance):
    if isinstance(want, bool) or isinstance(got, bool):
        return want == got
    if isinstance(want, (int, float)) and isinstance(got, (int, float)):
        if math.isnan(want) or math.isnan(got):
            return math.isnan(want) and math.isnan(got)
        return abs(got - want) <= tolerance * max(abs(want), abs(got)) + 1e-300
    return want == got


def show(v):
    return json.dumps(v) if not isinstance(v, float) else repr(v)


def compare(case, got):
    tolerance = float(case.get("tolerance", DEFAULT_TOLERANCE))
    ignored = ALWAYS_IGNORED | set(case.get("ignore") or [])
    want = case.get("expected") or {}
    only = case.get("only")
    if only:
        got = {k: v for k, v in got.items() if any(k == o or k.startswith(o + ".") or k.startswith(o + "[") for o in only)}
    problems = []
    for key in sorted(set(want) | set(got)):
        if key.split(".")[-1] in ignored or key in ignored:
            continue
        if key not in got:
            problems.append(f"  {key}: expected {show(want[key])}, now absent")
        elif key not in want:
            problems.append(f"  {key}: new, now {show(got[key])}")
        elif not same(want[key], got[key], tolerance):
            change = ""
            w, g = want[key], got[key]
            if isinstance(w, (int, float)) and isinstance(g, (int, float)) and not isinstance(w, bool) and w:
                change = f" ({100 * (g - w) / abs(w):+.3g}%)"
            problems.append(f"  {key}: expected {show(w)}, now {show(g)}{change}")
    return problems


def cases(names):
    files = sorted(glob.glob(os.path.join(HERE, "*", "*.yaml")))
    if not names:
        return files
    chosen = []
    for name in names:
        match = [f for f in files if os.path.relpath(f, HERE)[: -len(".yaml")] == name or
                 os.path.relpath(f, HERE).startswith(name.rstrip("/") + "/")]
        if not match:
            sys.exit(f"golden: no case '{name}' under {HERE}")
        chosen += match
    return chosen


def load(path):
    with open(path, encoding="utf-8") as f:
        case = yaml.safe_load(f)
    for key in ("description", "command", "args"):
        if key not in case:
            sys.exit(f"{path}: missing '{key}'")
    return case


def write(path, case):
    ordered = {k: case[k] for k in ("description", "command", "args", "tolerance", "ignore", "only") if k in case}
    ordered["expected"] = case["expected"]
    with open(path, "w", encoding="utf-8") as f:
        f.write("# Golden case: rewrite `expected` only with scripts/golden-approve, in a commit that says why.\n")
        yaml.safe_dump(ordered, f, sort_keys=False, allow_unicode=True, width=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["check", "approve"])
    parser.add_argument("cases", nargs="*", help="area/case or area (default: every case)")
    parser.add_argument("--bin", default=os.environ.get("SUANLI_BIN", os.path.join(REPO, "build/release/apps/cli/suanli")))
    args = parser.parse_intermixed_args()
    failed = 0
    files = cases(args.cases)
    for path in files:
        name = os.path.relpath(path, HERE)[: -len(".yaml")]
        case = load(path)
        try:
            got = run(args.bin, case)
        except Exception as e:  # noqa: BLE001 - reported per case
            print(f"FAIL {name}: {e}")
            failed += 1
            continue
        if args.action == "approve":
            old = case.get("expected") or {}
            changed = compare(case, got) if old else ["  (new case)"]
            only = case.get("only")
            if only:
                got = {k: v for k, v in got.items() if any(k == o or k.startswith(o + ".") or k.startswith(o + "[") for o in only)}
            case["expected"] = got
            write(path, case)
            print(f"approved {name}" + (f": {len(changed)} change(s)" if changed else ": unchanged"))
            for line in changed[:40]:
                print(line)
            continue
        problems = compare(case, got)
        if problems:
            failed += 1
            print(f"FAIL {name} ({len(problems)} change(s)); approve with: scripts/golden-approve {name}")
            for line in problems[:60]:
                print(line)
            if len(problems) > 60:
                print(f"  ... and {len(problems) - 60} more")
        else:
            print(f"ok   {name}")
    if args.action == "check":
        print(f"\ngolden: {len(files) - failed} of {len(files)} cases unchanged")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
