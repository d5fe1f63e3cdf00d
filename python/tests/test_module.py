"""The Python module's contract: the CLI's --json objects, keyword arguments
from the request field tables, the CLI's errors as InputError / NotFoundError,
the GIL released while the library works. Run by ctest (python_module) with
PYTHONPATH=BUILD/python and SUANLI_BIN set to the CLI built beside it."""
import inspect
import json
import os
import subprocess
import sys
import threading

import pytest

import suanli

BIN = os.environ.get("SUANLI_BIN", "")
needs_cli = pytest.mark.skipif(not BIN, reason="SUANLI_BIN (the CLI built beside the module) not set")

INFER = dict(hardware="h20", model="llama-3.1-70b", input_tokens=2048, output_tokens=512, tp=8, batch=16)


def cli_json(command, **fields):
    args = [BIN, command]
    positional = {f["key"] for f in suanli.commands()[command]["fields"] if f["positional"]}
    for k, v in fields.items():
        flag = "--" + k.replace("_", "-")
        if k in positional:
            args.append(str(v))
        elif v is True:
            args.append(flag)
        else:
            args += [flag, ",".join(v) if isinstance(v, (list, tuple)) else str(v)]
    out = subprocess.run(args + ["--json"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def cli_error(command, **fields):
    args = [BIN, command]
    for k, v in fields.items():
        args += ["--" + k.replace("_", "-"), str(v)]
    out = subprocess.run(args, capture_output=True, text=True)
    assert out.returncode == 2, out
    return out.stderr.strip()


def test_catalog_found_without_arguments():
    c = suanli.Catalog.load()
    assert os.path.isdir(os.path.join(c.dir, "chips"))
    assert suanli.default_catalog().dir == c.dir


@needs_cli
@pytest.mark.parametrize("command,fields", [
    ("infer", INFER),
    ("infer", dict(hardware="mi300x", model="mixtral-8x7b", input_tokens=512, output_tokens=128, concurrency="max",
                   weights="fp8")),
    ("compare", dict(hardware=["h20", "h100-sxm", "mi300x"], model="llama-3.1-70b", input_tokens=2048,
                     output_tokens=512, tp=8, batch=16)),
    ("train", dict(hardware="h100-sxm", model="llama-3.1-8b", devices=64, seq_len=4096, global_batch=256, tp=2)),
    ("train", dict(hardware="h100-sxm", model="llama-3.1-70b", devices=256, seq_len=4096, global_batch=512,
                   search=True, top=3, pareto=True)),
    ("classify", dict(hardware="h20")),
    ("classify", dict(hardware="all", rules=["us-2023-10"])),
    ("serve", dict(hardware="h20", model="llama-3.1-8b", input_tokens=512, output_tokens=64, rate=4, requests=200,
                   sla_ttft=1, sla_tpot=0.05)),
    ("cost", dict(hardware="h20", model="llama-3.1-8b", input_tokens=1000, output_tokens=200, batch=16)),
    ("fleet", dict(scenario_file=os.path.join(os.path.dirname(__file__), "..", "..", "examples", "fleet", "toy.yaml"))),
])
def test_to_dict_is_the_cli_json(command, fields):
    got = getattr(suanli, command)(**fields).to_dict()
    want = cli_json(command, **fields)
    for d in (got, want):  # timings differ run to run
        d.pop("search_s", None)
        d.pop("search_seconds", None)
    assert got == want


def test_attributes_follow_the_json():
    r = suanli.infer(**INFER)
    d = r.to_dict()
    assert r.ttft_s == d["ttft_s"]
    assert r.memory.kv_cache_bytes == d["memory"]["kv_cache_bytes"]
    assert r.breakdown.decode.total_s == d["breakdown"]["decode"]["total_s"]
    assert r["plan"]["tp"] == 8
    with pytest.raises(AttributeError, match="no field 'no_such'"):
        r.no_such


def test_keywords_are_the_field_tables():
    tables = suanli.commands()
    assert {"infer", "compare", "train", "classify"} <= set(tables)
    for name, table in tables.items():
        if not table["runnable"]:
            continue
        params = inspect.signature(getattr(suanli, name)).parameters
        keys = [f["key"] for f in table["fields"]]
        assert [p for p in params if p != "catalog"] == keys
        for f in table["fields"]:
            assert (params[f["key"]].default is inspect.Parameter.empty) == f["required"], f["key"]
            assert f["key"] in getattr(suanli, name).__doc__


@needs_cli
def test_bad_input_is_the_cli_message_with_keys():
    with pytest.raises(suanli.InputError) as e:
        suanli.infer(**{**INFER, "input_tokens": 0})
    assert e.value.key == "input_tokens"
    assert isinstance(e.value, ValueError)
    cli = cli_error("infer", **{**INFER, "input_tokens": 0})
    assert cli == "error: " + str(e.value).replace("input_tokens", "--input-tokens")


@needs_cli
def test_a_name_not_there_is_not_found_with_suggestions():
    with pytest.raises(suanli.NotFoundError) as e:
        suanli.infer(**{**INFER, "hardware": "h2o"})
    assert e.value.key == "hardware" and "did you mean 'h20'" in str(e.value)
    assert cli_error("infer", **{**INFER, "hardware": "h2o"}) == "error: " + str(e.value).replace(
        "hardware:", "--hardware:")


def test_unknown_keyword_and_bad_choice():
    with pytest.raises(suanli.InputError) as e:
        suanli.infer(**INFER, tpp=2)
    assert e.value.key == "tpp" and "did you mean 'tp'" in str(e.value)
    with pytest.raises(suanli.InputError) as e:
        suanli.infer(**{**INFER, "weights": "fp7"})
    assert e.value.key == "weights" and "fp8" in str(e.value)
    with pytest.raises(suanli.InputError) as e:
        suanli.infer(**INFER, concurrency=4)
    assert e.value.key in ("batch", "concurrency")
    with pytest.raises(TypeError):
        suanli.infer(INFER)  # keywords only


def test_values_are_python_types():
    a = suanli.train(hardware="h100-sxm", model="llama-3.1-8b", devices=64, seq_len=4096, global_batch=256,
                     tp=2, lora=True, tokens=1e12).to_dict()
    assert a["request"]["lora"] is True
    assert a["time_to_train_s"] > 0
    b = suanli.compare(hardware=("h20", "h100-sxm"), model="llama-3.1-8b", input_tokens=128, output_tokens=16)
    assert [r["hardware"] for r in b.results] == ["h20", "h100-sxm"]


def test_warnings_have_codes():
    r = suanli.infer(**{**INFER, "tp": 16})
    codes = {w["code"] for w in r.warnings}
    assert "tp_crosses_nodes" in codes
    assert all(set(w) == {"code", "text"} and w["text"] for w in r.warnings)
    t = suanli.train(hardware="h100", model="llama-3.1-8b", devices=64, seq_len=4096, global_batch=256, tp=16)
    assert "tp_crosses_nodes" in {w["code"] for w in t.warnings}


def test_internal_faults_are_runtime_errors():
    """The errors a call raises, as the extension maps the library's kinds (and as _raise does)."""
    for raise_ in (suanli._suanli.raise_error, suanli._raise):
        with pytest.raises(RuntimeError, match="internal error: broken") as e:
            raise_(3, "broken", "")
        assert not isinstance(e.value, ValueError)
        with pytest.raises(suanli.InputError) as e:
            raise_(1, "tp: must be at least 1, found '0'", "tp")
        assert e.value.key == "tp" and str(e.value) == "tp: must be at least 1, found '0'"
        assert not isinstance(e.value, suanli.NotFoundError)
        with pytest.raises(suanli.NotFoundError) as e:
            raise_(2, "hardware: no chip 'h2o'", "hardware")
        assert e.value.key == "hardware" and isinstance(e.value, LookupError)


def test_catalog_records_and_lists():
    c = suanli.Catalog.load()
    h20 = c.chip("H20")  # aliases, any case
    assert h20.id == "h20" and h20["kind"] == "chip"
    rules = c.record("us-2023-10")
    assert any(cat.get("when") for cat in rules["categories"])
    ids = [r.id for r in c.list("chips")]
    assert "h20" in ids and "h100-sxm" in ids
    with pytest.raises(suanli.NotFoundError):
        c.record("no-such-thing")
    with pytest.raises(suanli.InputError) as e:
        c.list("chipz")
    assert "chips" in str(e.value)


def test_a_catalog_directory_that_is_not_one():
    with pytest.raises(suanli.InputError):
        suanli.Catalog.load("/nonexistent/catalog")


def test_many_equals_one_by_one_in_order():
    reqs = [{**INFER, "batch": b} for b in (1, 2, 4, 8, 16, 32)]
    many = suanli.infer_many(reqs, threads=3)
    assert [m.to_dict() for m in many] == [suanli.infer(**r).to_dict() for r in reqs]
    mixed = suanli.infer_many([INFER, {**INFER, "tp": 0}], errors="return")
    assert isinstance(mixed[0], suanli.Result) and isinstance(mixed[1], suanli.InputError)
    assert mixed[1].key == "tp"
    with pytest.raises(suanli.InputError):
        suanli.infer_many([INFER, {**INFER, "tp": 0}])


def test_the_gil_is_released_during_evaluation():
    """A second Python thread keeps running while the library evaluates many requests."""
    reqs = [{**INFER, "batch": 1 + i % 64} for i in range(20000)]
    ticks = 0
    done = threading.Event()

    def work():
        suanli.infer_many(reqs, threads=1)
        done.set()

    t = threading.Thread(target=work)
    t.start()
    while not done.is_set():
        ticks += 1
    t.join()
    assert ticks > 1000  # with the GIL held through the call this loop could not run


def test_to_pandas():
    r = suanli.compare(hardware="h20,h100-sxm", model="llama-3.1-8b", input_tokens=128, output_tokens=16)
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="python3-pandas"):
            r.to_pandas()
        return
    df = r.to_pandas()
    assert list(df["hardware"]) == ["h20", "h100-sxm"]


def test_ctrl_c_stops_a_search():
    """SIGINT during a search raises KeyboardInterrupt (the search is told to stop)."""
    code = (
        "import os, signal, threading, suanli\n"
        "threading.Timer(0.05, lambda: os.kill(os.getpid(), signal.SIGINT)).start()\n"
        "try:\n"
        "    for _ in range(200):\n"
        "        suanli.train(hardware='h100-sxm', model='llama-3.1-405b', devices=16384, seq_len=8192,\n"
        "                     global_batch=16384, search=True)\n"
        "    print('finished')\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "interrupted", out


def test_ctrl_c_stops_a_serving_simulation():
    """SIGINT during a long serve raises KeyboardInterrupt: the simulation is told to stop, not waited for."""
    code = (
        "import os, signal, threading, time, suanli\n"
        "suanli.default_catalog()\n"
        "threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGINT)).start()\n"
        "t = time.monotonic()\n"
        "try:\n"
        "    suanli.serve(hardware='h20', model='llama-3.1-8b', input_tokens=512, output_tokens=64, rate=1000,\n"
        "                 requests=1000000000)\n"
        "    print('finished')\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', time.monotonic() - t)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    word, *took = out.stdout.split()
    assert word == "interrupted", out
    assert float(took[0]) < 30, out  # a billion requests would take hours


def test_python_values_become_the_text_a_flag_would_carry():
    with pytest.raises(suanli.InputError, match="at most 4294967296, found '1180591620717411303424'"):
        suanli.infer(**{**INFER, "input_tokens": 2 ** 70})  # past a C long: still its digits
    with pytest.raises(suanli.InputError, match="expected a whole number, found '1.5'"):
        suanli.infer(**{**INFER, "input_tokens": 1.5})
    assert suanli.infer(**{**INFER, "concurrency": None}).to_dict() == suanli.infer(**INFER).to_dict()  # None: absent
    a = suanli.compare(hardware=["h20", "b200"], model="llama-3.1-8b", input_tokens=8, output_tokens=8).to_dict()
    b = suanli.compare(hardware="h20,b200", model="llama-3.1-8b", input_tokens=8, output_tokens=8).to_dict()
    assert a == b


def test_what_if_chips_are_built_in_the_library(tmp_path):
    """run_many's chips: the base chip with figures, no file, the same answers as the chip file."""
    f = tmp_path / "h20-2x.yaml"
    f.write_text("id: h20-2x\nextends: h20\nname: H20 2x\ncompute:\n  fp8: {value: \"592 TFLOPS\", basis: estimated, "
                 "source: [WHAT_IF], note: \"a what-if figure\"}\n")
    reqs = [dict(INFER, weights="fp8", batch=b) for b in (1, 64)]
    chips = [{"id": "h20-2x", "name": "H20 2x", "base": "h20", "figures": {"compute.fp8": "592 TFLOPS"}},
             {"id": "h20-bad", "base": "h20", "figures": {"compute.fp8": "592 TB/s"}}]
    got = suanli.run_many("infer", [dict(r, hardware="h20-2x") for r in reqs] + [dict(reqs[0], hardware="h20-bad")],
                          chips=chips, errors="return")
    want = suanli.run_many("infer", [dict(r, hardware=str(f)) for r in reqs])
    assert [g.to_dict() for g in got[:2]] == [w.to_dict() for w in want]
    assert isinstance(got[2], suanli.InputError) and got[2].key.startswith("chip.compute.fp8"), got[2]
    # Without chips the id is not hardware.
    with pytest.raises(suanli.NotFoundError):
        suanli.infer(**dict(reqs[0], hardware="h20-2x"))
