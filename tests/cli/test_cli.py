"""End-to-end tests of the suanli command line: the contract scripts rely on.

Run by ctest with SUANLI_BIN (the built binary) and SUANLI_REPO set.
"""
import csv as csv_module
import io
import json
import os
import subprocess
import tempfile
import unittest

BIN = os.environ.get("SUANLI_BIN", "suanli")
REPO = os.environ.get("SUANLI_REPO", ".")


def run(*args, catalog=None):
    cmd = [BIN]
    if catalog:
        cmd += ["--catalog", catalog]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=60)


class CatalogCommands(unittest.TestCase):
    def test_list_chips_json_has_every_chip(self):
        r = run("catalog", "list", "chips", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        chips = {c["id"]: c for c in json.loads(r.stdout)["chips"]}
        self.assertIn("h20", chips)
        self.assertAlmostEqual(chips["h20"]["memory_bandwidth_bytes_per_s"], 4.0e12)
        self.assertAlmostEqual(chips["h20"]["bf16_flops_per_s"], 148e12)

    def test_list_tables(self):
        for what in ("chips", "systems", "models", "rules", "sources"):
            r = run("catalog", "list", what)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertGreater(len(r.stdout.splitlines()), 3, what)

    def test_show_h20_lists_each_figure_with_its_source(self):
        r = run("catalog", "show", "h20")
        self.assertEqual(r.returncode, 0, r.stderr)
        for text in ("memory.bandwidth", "4000 GB/s", "VIPERA_H20", "compute.fp8", "Sources"):
            self.assertIn(text, r.stdout)
        j = json.loads(run("catalog", "show", "h20", "--json").stdout)
        self.assertEqual(j["extends"], "h100-sxm")
        for key, fig in j["figures"].items():
            self.assertTrue(fig["sources"], key)
            self.assertIn(fig["basis"], ("datasheet", "measured", "estimated", "rumoured"))

    def test_show_model_system_rules(self):
        j = json.loads(run("catalog", "show", "deepseek-v3", "--json").stdout)
        self.assertAlmostEqual(j["total_params"] / 1e9, 671, delta=1)
        self.assertEqual(j["kv_values_per_token"], 576 * 61)
        self.assertEqual(json.loads(run("catalog", "show", "hgx-h20", "--json").stdout)["chip"], "h20")
        self.assertEqual(json.loads(run("catalog", "show", "us-2023-10", "--json").stdout)["kind"], "rules")

    def test_show_config_json_says_what_was_imported(self):
        # Issue 11: a user's config.json, shown in words (layer groups, parameters, KV bytes).
        path = os.path.join(REPO, "tests", "data", "hf", "gemma-2-2b-it.json")
        r = run("catalog", "show", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        for text in ("model_type gemma2", "parameters 2.61 B total, 2.61 B active per token",
                     "KV cache 106,496 bytes per token in bf16", "Layer groups", "gqa", "4,096", "full",
                     "dense 9,216 (gated)", "soft-capping ignored"):
            self.assertIn(text, r.stdout)
        self.assertNotIn("{", r.stdout)  # no raw JSON blob
        j = json.loads(run("catalog", "show", path, "--json").stdout)
        self.assertEqual([g["layers"] for g in j["layer_groups"]], [13, 13])
        # GQA is "gqa", MQA "mqa", MHA "mha" (a GQA model was called "mha").
        groups = json.loads(run("catalog", "show", "llama-3.1-70b", "--json").stdout)["layer_groups"]
        self.assertEqual(groups[0]["attention"], "gqa")
        groups = json.loads(run("catalog", "show", "phi-3-mini-4k", "--json").stdout)["layer_groups"]
        self.assertEqual(groups[0]["attention"], "mha")
        with tempfile.TemporaryDirectory() as d:
            mqa = os.path.join(d, "mqa.json")
            with open(mqa, "w") as f:
                json.dump({"model_type": "llama", "hidden_size": 64, "num_attention_heads": 8, "num_key_value_heads": 1,
                           "num_hidden_layers": 2, "vocab_size": 10, "intermediate_size": 128}, f)
            groups = json.loads(run("catalog", "show", mqa, "--json").stdout)["layer_groups"]
            self.assertEqual(groups[0]["attention"], "mqa")

    def test_schema_lists_fields(self):
        j = json.loads(run("catalog", "schema", "--json").stdout)
        keys = {f["key"]: f for f in j["chip"]}
        self.assertIn("memory.bandwidth", keys)
        self.assertTrue(keys["id"]["required"])
        self.assertIn("bandwidth", keys["memory.bandwidth"]["unit"])
        self.assertIn("network[].oversubscription", {f["key"] for f in j["system"]})
        self.assertEqual(run("catalog", "schema", "chips").returncode, 0)


class Classify(unittest.TestCase):
    def test_h20_json_contract(self):
        r = run("classify", "--hardware", "h20", "--rules", "us-2023-10", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        j = json.loads(r.stdout)
        for key in ("chip", "rules", "tpp", "performance_density", "category", "controlled", "reasons", "headroom"):
            self.assertIn(key, j)
        self.assertEqual(j["chip"], "h20")
        self.assertAlmostEqual(j["tpp"], 2368, delta=0.5)
        self.assertAlmostEqual(j["performance_density"], 2.91, delta=0.01)
        self.assertFalse(j["controlled"])
        self.assertAlmostEqual(j["headroom"][0]["limit"], 2400)

    def test_all_chips_all_rules(self):
        r = run("classify", "--hardware", "all")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("us-2023-10", r.stdout)
        self.assertIn("h20", r.stdout)
        j = json.loads(run("classify", "--hardware", "all", "--json").stdout)
        self.assertGreaterEqual(len(j["results"]), 30 * 5)

    def test_system_id_classifies_its_chip(self):
        j = json.loads(run("classify", "--hardware", "hgx-h800", "--rules", "us-2022-10", "--json").stdout)
        self.assertEqual(j["chip"], "h800-sxm")
        self.assertFalse(j["controlled"])

    def test_chip_file(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "what-if.yaml")
            with open(path, "w") as f:
                f.write("id: what-if\nname: H20 with 2x compute\nvendor: hypothetical\nextends: h20\n"
                        "compute:\n  fp8: {value: 592 TFLOPS, basis: estimated, source: [what-if]}\n")
            r = run("classify", "--hardware", path, "--rules", "us-2023-10", "--json")
            self.assertEqual(r.returncode, 0, r.stderr)
            j = json.loads(r.stdout)
            self.assertTrue(j["controlled"])
            self.assertTrue(any("what-if" in w for w in j["warnings"]))


class ErrorPaths(unittest.TestCase):
    def assertBadInput(self, r, *texts):
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertEqual(r.stdout, "")
        for t in texts:
            self.assertIn(t, r.stderr)

    def test_bad_allreduce_curve_names_file_line_and_key(self):
        # Issue 15: a profile's bus bandwidth by group size is checked on load.
        import shutil
        with tempfile.TemporaryDirectory() as d:
            cat = os.path.join(d, "catalog")
            shutil.copytree(os.path.join(REPO, "catalog"), cat)
            path = os.path.join(cat, "profiles", "nvidia-hopper.yaml")
            with open(path) as f:
                lines = f.read().split("\n")
            line = next(i for i, t in enumerate(lines) if "allreduce_by_ranks:" in t) + 1
            lines[line - 1] = '  allreduce_by_ranks: {value: "8=1.064, 4=0.817", basis: measured, source: [micro-19]}'
            with open(path, "w") as f:
                f.write("\n".join(lines))
            self.assertBadInput(run("catalog", "list", catalog=cat), f"nvidia-hopper.yaml:{line}",
                                "collective.allreduce_by_ranks.value", "group sizes must increase")

    def test_inputs_are_bounded(self):
        # Issue 11: each of these took gigabytes or hung; now exit 2 at once, naming the file.
        with tempfile.TemporaryDirectory() as d:
            bomb = os.path.join(d, "laughs.yaml")
            with open(bomb, "w") as f:
                f.write("id: x\nname: x\nvendor: x\na0: &a0 [" + ", ".join(["lol"] * 10) + "]\n")
                for i in range(1, 9):
                    f.write(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n")
            self.assertBadInput(run("classify", "--hardware", bomb), "laughs.yaml:", "document too large")
            self.assertBadInput(run("classify", "--hardware", "/dev/zero"), "/dev/zero: is not a regular file")
            self.assertBadInput(run("classify", "--hardware", d + "/"), "is a directory, not a file")
            fifo = os.path.join(d, "fifo.yaml")
            os.mkfifo(fifo)
            self.assertBadInput(run("classify", "--hardware", fifo), "is not a regular file")
            big = os.path.join(d, "big.yaml")
            with open(big, "w") as f:
                f.write("#" * (16 * 1024 * 1024 + 1))
            self.assertBadInput(run("classify", "--hardware", big), "limited to 16 MiB")
            with open(os.path.join(REPO, "tests", "data", "hf", "llama-3.1-70b.json")) as f:
                cfg = json.load(f)
            cfg["num_hidden_layers"] = 1000000000
            layers = os.path.join(d, "layers.json")
            with open(layers, "w") as f:
                json.dump(cfg, f)
            self.assertBadInput(run("infer", "--hardware", "h100-sxm", "--model", layers, "--input-tokens", "8",
                                    "--output-tokens", "8"), "num_hidden_layers: must be at most 4,096")
            chip = os.path.join(d, "fast.yaml")
            with open(chip, "w") as f:
                f.write("id: fast\nname: F\nvendor: V\nextends: h20\n"
                        "compute:\n  bf16: {value: 1e300 TFLOPS, basis: estimated, source: [X]}\n")
            self.assertBadInput(run("classify", "--hardware", chip), "fast.yaml:6:", "out of range")

    def test_unknown_hardware_suggests(self):
        self.assertBadInput(run("classify", "--hardware", "h2O"), "did you mean", "'h20'")

    def test_unknown_rules(self):
        self.assertBadInput(run("classify", "--hardware", "h20", "--rules", "us-1999"), "no rule set 'us-1999'")

    def test_unknown_show_id(self):
        self.assertBadInput(run("catalog", "show", "h100-sxn"), "did you mean")

    def test_flag_errors(self):
        self.assertBadInput(run("classify"), "--hardware")
        self.assertBadInput(run("catalog", "list", "gpus"))
        self.assertBadInput(run("frobnicate"))

    def test_help_everywhere(self):
        for args in ([], ["catalog"], ["catalog", "list"], ["classify"]):
            r = run(*args, "--help")
            self.assertEqual(r.returncode, 0, args)
            self.assertIn("Usage", r.stdout)

    def test_broken_catalog_reports_file_line_key(self):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "chips"))
            with open(os.path.join(d, "chips", "x.yaml"), "w") as f:
                f.write("id: x\nname: X\nvendor: V\nmemory:\n  bandwith: {value: 1 TB/s, basis: datasheet, source: [S]}\n")
            self.assertBadInput(run("catalog", "list", "chips", catalog=d),
                                "x.yaml:5:", "memory.bandwith", "did you mean 'bandwidth'")

    def test_bad_chip_file(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "bad.yaml")
            with open(path, "w") as f:
                f.write("id: bad\nname: B\nvendor: V\nmemory:\n  bandwidth: {value: 4 TB, basis: datasheet, source: [S]}\n")
            self.assertBadInput(run("classify", "--hardware", path), "bad.yaml:5:", "is bytes but this field is bandwidth")
            self.assertBadInput(run("classify", "--hardware", os.path.join(d, "missing.yaml")), "cannot open file")
            # A system where a chip is expected, and a chip extending a system, each say so.
            system = os.path.join(d, "cluster.yaml")
            with open(system, "w") as f:
                f.write("id: c\nname: C\nvendor: V\nchip: a100-sxm-80gb\n"
                        "chips_per_node: {value: 8, basis: datasheet, source: [S]}\n")
            self.assertBadInput(run("classify", "--hardware", system), "cluster.yaml:5:", "this is a system file")
            chip = os.path.join(d, "chip.yaml")
            with open(chip, "w") as f:
                f.write("id: x\nname: X\nextends: vtrain-a100\n")
            self.assertBadInput(run("classify", "--hardware", chip), "chip.yaml:3:", "'vtrain-a100' is a system")

    def test_missing_catalog_dir(self):
        self.assertBadInput(run("catalog", "list", "chips", catalog="/nonexistent/catalog"), "catalog directory not found")


if __name__ == "__main__":
    unittest.main()


INFER_KEYS = {"ttft_s", "tpot_s", "request_latency_s", "output_tokens_per_s", "output_tokens_per_s_per_device",
              "input_tokens_per_s", "batch", "devices", "fits", "reason", "bound", "memory", "max_batch",
              "max_context_tokens", "breakdown", "tier", "warnings"}


class InferenceCommands(unittest.TestCase):
    def infer(self, *extra):
        return run("infer", "--hardware", "h20", "--model", "llama-3.1-70b", "--input-tokens", "2048",
                   "--output-tokens", "512", *extra)

    def test_infer_json_contract(self):
        r = self.infer("--batch", "8", "--tp", "8", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        j = json.loads(r.stdout)
        self.assertTrue(INFER_KEYS <= set(j), INFER_KEYS - set(j))
        self.assertEqual(j["devices"], 8)
        self.assertEqual(j["batch"], 8)
        self.assertTrue(j["fits"])
        self.assertIsNone(j["reason"])
        self.assertEqual(set(j["bound"]), {"prefill", "decode"})
        m = j["memory"]
        parts = m["weights_bytes"] + m["kv_cache_bytes"] + m["activation_bytes"] + m["reserved_bytes"]
        self.assertAlmostEqual(parts, m["total_bytes"], delta=1)
        self.assertIn("allreduce_s", j["breakdown"]["decode"])
        self.assertEqual(j["tier"], "measured")  # the H20 has its own measured profile (nvidia-h20)
        self.assertAlmostEqual(j["request_latency_s"], j["ttft_s"] + 511 * j["tpot_s"], delta=1e-9)

    def test_infer_text_and_batch_modes(self):
        r = self.infer("--batch", "max", "--tp", "8")
        self.assertEqual(r.returncode, 0, r.stderr)
        for text in ("TTFT", "TPOT", "memory per device", "tier: measured", "time by operator"):
            self.assertIn(text, r.stdout)
        c = json.loads(self.infer("--concurrency", "max", "--tp", "8", "--json").stdout)
        self.assertEqual(c["batch"], c["max_batch"])
        n = json.loads(self.infer("--concurrency", "16", "--tp", "8", "--json").stdout)
        self.assertEqual(n["batch"], 16)

    def test_does_not_fit_is_a_result_with_a_reason(self):
        r = run("infer", "--hardware", "rtx-4090", "--model", "llama-3.1-405b", "--input-tokens", "100",
                "--output-tokens", "10", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        j = json.loads(r.stdout)
        self.assertFalse(j["fits"])
        self.assertIn("weights", j["reason"])

    def test_hf_config_file_as_model(self):
        cfg = os.path.join(REPO, "tests", "data", "hf", "mixtral-8x7b.json")
        r = run("infer", "--hardware", "hgx-h100", "--model", cfg, "--input-tokens", "512", "--output-tokens", "64",
                "--tp", "2", "--ep", "4", "--batch", "32", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        j = json.loads(r.stdout)
        self.assertEqual(j["devices"], 8)
        self.assertGreater(j["breakdown"]["decode"]["alltoall_s"], 0)

    def test_bad_plans_exit_2_naming_the_flag(self):
        cases = [
            (("--tp", "3"), "--tp"),
            (("--ep", "2", "--batch", "4"), "--ep"),
            (("--weights", "fp4"), "--weights"),
            (("--weights", "fp12"), "--weights"),
            (("--batch", "abc"), "--batch"),
            (("--batch", "0"), "--batch"),
            (("--concurrency", "-1"), "--concurrency"),
            (("--pp", "500"), "--pp"),
        ]
        for extra, flag in cases:
            r = self.infer(*extra)
            self.assertEqual(r.returncode, 2, (extra, r.stdout, r.stderr))
            self.assertIn(flag, r.stderr, extra)
            self.assertEqual(r.stdout, "", extra)
        r = run("infer", "--hardware", "h20", "--model", "llama-3.1-70b", "--input-tokens", "0",
                "--output-tokens", "5")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--input-tokens", r.stderr)
        r = self.infer("--batch", "4", "--concurrency", "4")
        self.assertEqual(r.returncode, 2)
        r = run("infer", "--hardware", "h20", "--model", "lama-3.1-70b", "--input-tokens", "1", "--output-tokens", "1")
        self.assertEqual(r.returncode, 2)
        self.assertIn("llama-3.1-70b", r.stderr)
        r = run("infer", "--hardware", "mlu590", "--model", "llama-3.1-8b", "--input-tokens", "1", "--output-tokens", "1")
        self.assertEqual(r.returncode, 2)
        self.assertIn("memory.bandwidth", r.stderr)

    def test_compare_shows_the_h20_profile(self):
        args = ("compare", "--hardware", "h20,h100-sxm,h200-sxm,ascend-910b,mi300x", "--model", "llama-3.1-70b",
                "--input-tokens", "2048", "--output-tokens", "512", "--batch", "8", "--tp", "8")
        r = run(*args, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = {x["hardware"]: x for x in json.loads(r.stdout)["results"]}
        self.assertEqual(len(rows), 5)
        # Weak prefill, strong decode.
        self.assertGreater(rows["h20"]["ttft_s"], 3 * rows["h100-sxm"]["ttft_s"])
        self.assertLess(rows["h20"]["tpot_s"], 1.1 * rows["h100-sxm"]["tpot_s"])
        self.assertIsNotNone(rows["h20"]["output_tokens_per_s_per_kw"])
        csv = run(*args, "--csv")
        self.assertEqual(csv.returncode, 0, csv.stderr)
        lines = csv.stdout.strip().splitlines()
        self.assertEqual(len(lines), 6)
        self.assertTrue(lines[0].startswith("hardware,devices,batch,ttft_s"))
        text = run(*args)
        self.assertIn("tok/s/kW", text.stdout)
        bad = run("compare", "--hardware", "h20,nope", "--model", "llama-3.1-8b", "--input-tokens", "1",
                  "--output-tokens", "1")
        self.assertEqual(bad.returncode, 2)
        self.assertIn("nope", bad.stderr)
        empty = run("compare", "--hardware", ",", "--model", "llama-3.1-8b", "--input-tokens", "1",
                    "--output-tokens", "1")
        self.assertEqual(empty.returncode, 2)
        self.assertIn("--hardware", empty.stderr)

    def test_validate_reports_errors_and_unmapped_cases(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "cases.yaml")
            with open(path, "w") as f:
                f.write("cases:\n"
                        "- id: c1\n  group: g\n  kind: inference\n"
                        "  hardware: {chip: NVIDIA H100 SXM 80GB, count: 1}\n"
                        "  model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}\n"
                        "  workload: {scenario: offline max-throughput, batch_or_concurrency: max, input_len: 128,\n"
                        "             output_len: 2048, precision: FP8, tp: 1}\n"
                        "  result: {total_output_tokens_per_s: 22714}\n"
                        "- id: c2\n  group: g\n  kind: training\n  result: {x: 1}\n")
            r = run("validate", path, "--json")
            self.assertEqual(r.returncode, 0, r.stderr)
            j = json.loads(r.stdout)
            self.assertEqual(len(j["cases"]), 1)
            self.assertEqual(j["unmapped"][0]["id"], "c2")
            for key in ("median_ape", "mean_ape", "p90_ape", "bias"):
                self.assertIn(key, j["overall"])
            self.assertIn("g", j["groups"])
            text = run("validate", path)
            self.assertIn("median APE", text.stdout)
            # A training case that cannot be predicted is listed with its reason.
            self.assertIn("c2: ", text.stdout)
            self.assertIn("no catalog chip", text.stdout)
            with open(path, "w") as f:
                f.write("cases: 3\n")
            bad = run("validate", path)
            self.assertEqual(bad.returncode, 2)
            self.assertIn("cases.yaml", bad.stderr)

    def test_catalog_lists_profiles(self):
        r = run("catalog", "list", "profiles", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        ids = {p["id"] for p in json.loads(r.stdout)["profiles"]}
        self.assertTrue({"generic", "nvidia-hopper", "nvidia-ampere"} <= ids)
        show = json.loads(run("catalog", "show", "nvidia-hopper", "--json").stdout)
        self.assertIn("micro-01", show["figures"]["gemm.sweep_fp8"]["sources"])


TRAIN_KEYS = {"step_time_s", "tokens_per_s", "tokens_per_s_per_device", "model_flops_per_step",
              "model_tflops_per_device", "mfu", "memory", "fits", "reason", "plan", "breakdown", "bound", "tier",
              "warnings"}


class HostDispatchScript(unittest.TestCase):
    """scripts/host-dispatch derives vtrain-a100's host.op_dispatch; the two must agree."""
    SCRIPT = os.path.join(REPO, "scripts", "host-dispatch")

    def test_derivation_matches_the_catalog_figure(self):
        csv_path = os.path.join(REPO, "..", "shared", "validation", "vtrain", "ground_truth_single.csv")
        if not os.path.exists(csv_path):
            self.skipTest("no vTrain data at " + csv_path)
        r = subprocess.run(["python3", self.SCRIPT, csv_path], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        derived_us = float(r.stdout.split("host dispatch per operator:")[1].split("us")[0])
        fig = json.loads(run("catalog", "show", "vtrain-a100", "--json").stdout)["figures"]["host.op_dispatch"]
        self.assertLessEqual(fig["range"][0] * 1e6, derived_us)
        self.assertLessEqual(derived_us, fig["range"][1] * 1e6)
        self.assertAlmostEqual(fig["value"] * 1e6, derived_us, delta=0.5)  # the figure is the derivation, rounded

    def test_bad_rows_name_the_line(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "v.csv")
            with open(path, "w") as f:
                f.write("header\n2,16,1,1024,16,12,1024,1,2,1,100\n2,16,1,1024,16,x,1024,1,2,1,100\n")
            r = subprocess.run(["python3", self.SCRIPT, path], capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 2)
            self.assertIn("v.csv:3: expected 11 numbers", r.stderr)
            with open(path, "w") as f:
                f.write("header\n2,16,1,1024,16,12,1024,1,2,1,100\n")
            r = subprocess.run(["python3", self.SCRIPT, path], capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 2)
            self.assertIn("at two layer counts at least", r.stderr)
            r = subprocess.run(["python3", self.SCRIPT, os.path.join(d, "missing.csv")], capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(r.returncode, 2)
            self.assertIn("missing.csv: cannot open file", r.stderr)


class TrainingCommands(unittest.TestCase):
    BASE = ("train", "--hardware", "dgx-a100", "--model", "gpt3-175b", "--devices", "1024", "--seq-len", "2048",
            "--global-batch", "1536")

    def test_train_json_names_the_release_it_ran_on(self):
        # --release on train: the JSON says which release's figures the run took, as infer's warnings do.
        args = ["train", "--hardware", "h100-sxm", "--model", "llama-3.1-8b", "--devices", "8", "--tp", "8",
                "--seq-len", "8192", "--global-batch", "64", "--json"]
        plain = json.loads(run(*args).stdout)
        self.assertNotIn("release_notes", plain)
        r = run(*args, "--release", "flash-attention=3.0.0")
        self.assertEqual(r.returncode, 0, r.stderr)
        j = json.loads(r.stdout)
        self.assertTrue(any("flash-attention" in n for n in j["release_notes"]), j.get("release_notes"))
        self.assertLess(j["step_time_s"], plain["step_time_s"])  # FA3's attention is faster than the default

    def test_train_json_contract(self):
        r = run(*self.BASE, "--tp", "8", "--pp", "8", "--vp", "3", "--recompute", "selective", "--precision", "fp16",
                "--tokens", "300e9", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        j = json.loads(r.stdout)
        self.assertTrue(TRAIN_KEYS <= set(j), TRAIN_KEYS - set(j))
        self.assertEqual(j["plan"]["dp"], 16)
        for key in ("weights_bytes", "gradients_bytes", "optimizer_bytes", "activations_bytes", "other_bytes",
                    "total_bytes", "capacity_bytes"):
            self.assertIn(key, j["memory"])
        for key in ("compute_s", "recompute_s", "tp_comm_s", "dp_comm_exposed_s", "pp_bubble_s", "pp_comm_s",
                    "ep_comm_s", "cp_comm_s", "optimizer_s"):
            self.assertIn(key, j["breakdown"])
        self.assertAlmostEqual(j["time_to_train_s"], 300e9 / j["tokens_per_s"], delta=1)
        self.assertGreater(j["device_hours"], 0)
        self.assertTrue(0 < j["mfu"] < 1)
        self.assertEqual(j["plan"]["optimizer_state"], "fp32")
        self.assertIn(j["bound"], {"compute", "communication", "pipeline_bubble", "framework", "optimizer"})
        self.assertTrue(0 < j["bound_share"] <= 1)
        lean = json.loads(run(*self.BASE, "--tp", "8", "--pp", "8", "--vp", "3", "--recompute", "selective",
                              "--precision", "fp16", "--optimizer-state", "bf16", "--json").stdout)
        self.assertEqual(lean["plan"]["optimizer_state"], "bf16")
        self.assertAlmostEqual(lean["memory"]["optimizer_bytes"], j["memory"]["optimizer_bytes"] / 2, delta=1e3)

    def test_no_pp_overlap_blocks_on_pipeline_sends(self):
        # Interleaved 1F1B overlaps its pipeline exchanges unless told not to; the plan says which it ran.
        plan = ("--tp", "8", "--pp", "8", "--vp", "3", "--recompute", "selective", "--precision", "fp16", "--json")
        overlapped = json.loads(run(*self.BASE, *plan).stdout)
        r = run(*self.BASE, *plan, "--no-pp-overlap")
        self.assertEqual(r.returncode, 0, r.stderr)
        blocking = json.loads(r.stdout)
        self.assertTrue(overlapped["plan"]["overlap_pp"])
        self.assertFalse(blocking["plan"]["overlap_pp"])
        self.assertLess(overlapped["breakdown"]["pp_comm_s"], blocking["breakdown"]["pp_comm_s"])
        self.assertLess(overlapped["step_time_s"], blocking["step_time_s"])
        self.assertIn("no PP overlap", run(*self.BASE, *plan[:-1], "--no-pp-overlap").stdout)

    def test_search_json_and_text(self):
        r = run(*self.BASE, "--precision", "fp16", "--search", "--top", "3", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        j = json.loads(r.stdout)
        for key in ("candidates_evaluated", "candidates_feasible", "search_seconds", "top"):
            self.assertIn(key, j)
        self.assertEqual(len(j["top"]), 3)
        self.assertGreater(j["candidates_evaluated"], j["candidates_feasible"])
        self.assertTrue(all(t["fits"] for t in j["top"]))
        steps = [t["step_time_s"] for t in j["top"]]
        self.assertEqual(steps, sorted(steps))
        again = json.loads(run(*self.BASE, "--precision", "fp16", "--search", "--top", "3", "--json").stdout)
        self.assertEqual([t["plan"] for t in again["top"]], [t["plan"] for t in j["top"]])
        text = run(*self.BASE, "--search", "--tp", "8")
        self.assertEqual(text.returncode, 0, text.stderr)
        self.assertIn("plans evaluated", text.stdout)
        self.assertIn("best plan", text.stdout)

    def test_bare_chip_says_nodes_are_assumed(self):
        r = run("train", "--hardware", "h20", "--model", "llama-3.1-8b", "--devices", "8", "--seq-len", "4096",
                "--global-batch", "64", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(any("8 chips" in w for w in json.loads(r.stdout)["warnings"]))

    def test_impossible_plans_exit_2_naming_the_constraint(self):
        cases = [
            (("--tp", "8", "--pp", "8", "--dp", "8"), "--devices"),
            (("--pp", "128", "--tp", "8"), "--pp"),
            (("--tp", "8", "--pp", "8", "--micro-batch", "5"), "--micro-batch"),
            (("--recompute", "most"), "--recompute"),
            (("--precision", "fp4"), "--precision"),
            (("--optimizer-state", "fp16"), "--optimizer-state"),
            (("--tp", "8", "--pp", "8", "--vp", "5"), "--vp"),
            (("--tp", "1", "--tp-overlap"), "--tp-overlap"),
            (("--tp", "1", "--tp-overlap", "--search"), "--tp-overlap"),
            (("--zero", "7"), "--zero"),
            (("--search", "--top", "0"), "--top"),
        ]
        for extra, flag in cases:
            r = run(*self.BASE, *extra)
            self.assertEqual(r.returncode, 2, (extra, r.stdout, r.stderr))
            self.assertIn(flag, r.stderr, extra)
            self.assertEqual(r.stdout, "", extra)
        r = run("train", "--hardware", "dgx-a100", "--model", "gpt3-175b", "--devices", "100", "--tp", "8",
                "--seq-len", "2048", "--global-batch", "64")
        self.assertEqual(r.returncode, 2)
        self.assertIn("not a multiple of tp x pp x cp", r.stderr)
        r = run("train", "--hardware", "hgx-h100", "--model", "mixtral-8x7b", "--devices", "24", "--ep", "3",
                "--seq-len", "4096", "--global-batch", "48")
        self.assertEqual(r.returncode, 2)
        self.assertIn("experts", r.stderr)

    def test_moe_folding_accepts_ep_beyond_dp(self):
        # Megatron-Core's Qwen3-235B plan: EP 32 folded over TP 2 x DP 16 with expert TP 1.
        base = ("train", "--hardware", "hgx-h100", "--model", "qwen3-235b-a22b", "--devices", "256", "--tp", "2",
                "--pp", "8", "--ep", "32", "--seq-len", "4096", "--global-batch", "2048", "--recompute", "full")
        r = run(*base, "--etp", "1", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        plan = json.loads(r.stdout)["plan"]
        self.assertEqual((plan["ep"], plan["etp"], plan["edp"], plan["dp"]), (32, 1, 1, 16))
        r = run(*base)  # etp = tp = 2: 64 expert ranks do not fold over 32
        self.assertEqual(r.returncode, 2)
        self.assertIn("--ep", r.stderr)
        self.assertIn("etp x ep = 64", r.stderr)
        self.assertEqual(r.stdout, "")
        r = run(*base, "--etp", "0")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--etp", r.stderr)
        # DeepEP sends a token once per node where NCCL's all-to-all sends every (token, expert) copy.
        steps = {}
        for extra in ((), ("--dispatcher", "deepep"), ("--dispatcher", "deepep", "--ep-overlap")):
            r = run(*base, "--etp", "1", *extra, "--json")
            self.assertEqual(r.returncode, 0, r.stderr)
            steps[extra] = json.loads(r.stdout)["step_time_s"]
        self.assertLess(steps[("--dispatcher", "deepep")], steps[()])
        self.assertLess(steps[("--dispatcher", "deepep", "--ep-overlap")], steps[("--dispatcher", "deepep")])
        r = run(*base[:-2], "--etp", "1", "--recompute-modules", "layernorm,moe_act", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        plan = json.loads(r.stdout)["plan"]
        self.assertEqual((plan["recompute"], plan["recompute_modules"]), ("selective", "layernorm,moe_act"))
        r = run(*base[:-2], "--etp", "1", "--recompute-modules", "layernorm,attention")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--recompute-modules", r.stderr)
        self.assertIn("attention", r.stderr)
        r = run(*base, "--etp", "1", "--dispatcher", "nccl")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--dispatcher", r.stderr)

    def test_pipeline_layouts(self):
        base = ("train", "--hardware", "hgx-h100", "--model", "llama-3.1-405b", "--devices", "1024", "--tp", "8",
                "--pp", "8", "--vp", "8", "--seq-len", "8192", "--global-batch", "512")
        r = run(*base)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--vp", r.stderr)
        r = run(*base, "--embedding-in-split", "--loss-in-split", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        plan = json.loads(r.stdout)["plan"]
        self.assertTrue(plan["embedding_in_split"] and plan["loss_in_split"])
        r = run(*base, "--pp-layout", "E(tttttttt|)*63ttttttL")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--pp-layout", r.stderr)
        self.assertEqual(r.stdout, "")
        r = run(*base[:-6], *base[-4:], "--first-stage-layers", "14", "--last-stage-layers", "14")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--first-stage-layers", r.stderr)

    def test_pipeline_schedules_and_deepseek_v3_plan(self):
        # DeepSeek-V3's published plan on 2,048 H800 (tech report, section 3.2): PP 16 DualPipe, EP 64,
        # ZeRO-1, FP8 with FP8 activation caching, norms and MLA up-projections recomputed, one MTP module.
        base = ("train", "--hardware", "hgx-h800", "--model", "deepseek-v3", "--devices", "2048", "--tp", "1",
                "--pp", "16", "--ep", "64", "--zero", "1", "--precision", "fp8", "--seq-len", "4096",
                "--global-batch", "15360", "--no-sequence-parallel", "--recompute-modules", "layernorm,mla_up_proj")
        steps = {}
        for sched in ("1f1b", "zero-bubble", "dualpipe"):
            r = run(*base, "--pp-schedule", sched, "--fp8-activations", "--mtp-layers", "1", "--json")
            self.assertEqual(r.returncode, 0, r.stderr)
            d = json.loads(r.stdout)
            self.assertTrue(d["fits"], sched)
            self.assertEqual(d["plan"]["pp_schedule"], sched)
            self.assertEqual(d["plan"]["mtp_layers"], 1)
            self.assertTrue(d["plan"]["fp8_activations"])
            self.assertGreaterEqual(d["breakdown"]["pp_bubble_s"], 0)
            steps[sched] = d
        self.assertLessEqual(steps["zero-bubble"]["breakdown"]["pp_bubble_s"], steps["1f1b"]["breakdown"]["pp_bubble_s"])
        self.assertLess(steps["dualpipe"]["breakdown"]["ep_comm_s"], steps["1f1b"]["breakdown"]["ep_comm_s"])
        # Error paths: each names its flag, exit 2, nothing on stdout.
        def with_flags(*pairs):
            args = list(base)
            for key, value in pairs:
                if key in args:
                    args[args.index(key) + 1] = value
                else:
                    args += [key] if value is None else [key, value]
            return args
        for pairs, flag in (((("--pp-schedule", "dualpipe"), ("--global-batch", "128")), "--pp-schedule"),
                            ((("--pp-schedule", "zigzag"),), "--pp-schedule"),
                            ((("--pp-schedule", "interleaved"),), "--pp-schedule"),
                            ((("--fp8-activations", None), ("--precision", "bf16")), "--fp8-activations"),
                            ((("--mtp-layers", "65"),), "--mtp-layers"),
                            ((("--mtp-layers", "-1"),), "--mtp-layers")):
            r = run(*with_flags(*pairs))
            self.assertEqual(r.returncode, 2, (pairs, r.stdout))
            self.assertIn(flag, r.stderr)
            self.assertEqual(r.stdout, "")

    def test_context_parallel_exchange(self):
        base = ("train", "--hardware", "hgx-h100", "--model", "llama-3.1-70b", "--devices", "64", "--tp", "8",
                "--cp", "8", "--zero", "3", "--recompute", "full", "--seq-len", "32768", "--global-batch", "8")
        r = run(*base, "--cp-comm", "a2a", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["plan"]["cp_comm"], "a2a")
        wide = list(base)
        wide[wide.index("--devices") + 1] = "128"
        wide[wide.index("--cp") + 1] = "16"  # 8 heads per tp rank do not split 16 ways
        r = run(*wide, "--cp-comm", "a2a")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--cp-comm", r.stderr)
        r = run(*base, "--cp-comm", "p2p")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--cp-comm", r.stderr)

    def test_activation_offload(self):
        base = ("train", "--hardware", "gb200-nvl72", "--model", "llama-3.1-70b", "--devices", "256", "--tp", "1",
                "--zero", "3", "--seq-len", "16384", "--global-batch", "256", "--recompute", "selective")
        r = run(*base, "--offload-layers", "79", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        d = json.loads(r.stdout)
        self.assertTrue(d["fits"])
        self.assertGreater(d["breakdown"]["offload_s"], 0)
        self.assertEqual(d["plan"]["offload_layers"], 79)
        r = run(*base, "--offload-layers", "81")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--offload-layers", r.stderr)
        r = run("train", "--hardware", "dgx-b200", "--model", "llama-3.1-70b", "--devices", "8", "--seq-len", "4096",
                "--global-batch", "8", "--offload-layers", "4")
        self.assertEqual(r.returncode, 2)
        self.assertIn("host link", r.stderr)

    def test_weight_offload(self):
        base = ("train", "--hardware", "gb200-nvl72", "--model", "llama-3.1-405b", "--devices", "8", "--tp", "8",
                "--recompute", "full", "--seq-len", "8192", "--global-batch", "16", "--offload-optimizer")
        r = run(*base, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        kept = json.loads(r.stdout)
        self.assertFalse(kept["fits"])
        self.assertNotIn("offload_weights", kept["plan"])  # the key appears only when set
        r = run(*base, "--offload-weights", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        d = json.loads(r.stdout)
        self.assertTrue(d["fits"])
        self.assertTrue(d["plan"]["offload_weights"])
        self.assertLess(d["memory"]["weights_bytes"], kept["memory"]["weights_bytes"] / 10)
        self.assertGreater(d["breakdown"]["offload_s"], 0)
        r = run(*base, "--offload-weights")
        self.assertIn("weights offloaded", r.stdout)
        r = run("train", "--hardware", "mi300x-8", "--model", "llama-3.1-8b", "--devices", "8", "--seq-len", "2048",
                "--global-batch", "8", "--offload-weights")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--offload-weights", r.stderr)
        self.assertIn("host link", r.stderr)

    def test_validate_reads_vtrain_csv(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "runs.csv")
            with open(path, "w") as f:
                f.write("# GPUs,global batch,micro batch,hidden size,attention heads,# layers,sequence length,"
                        "tensor parallelism,data parallelism,pipeline parallelism,iteration time (ms)\n"
                        "8,32,4,1024,16,24,1024,2,2,2,219.7\n8,32,4,1024,16,24,1024,1,8,1,200.1\n"
                        "8,32,4,1000,16,24,1024,1,8,1,200.1\n")
            r = run("validate", path, "--json")
            self.assertEqual(r.returncode, 0, r.stderr)
            j = json.loads(r.stdout)
            self.assertEqual(len(j["cases"]), 2)
            self.assertEqual(len(j["plan_choices"]), 1)
            self.assertIn("heads", j["unmapped"][0]["reason"])  # hidden 1000 over 16 heads


class BadInputExitsTwo(unittest.TestCase):
    """Issue 11, item 7-9: bad input never exits 0 or 1, and names the flag."""

    def expect(self, args, text, **kw):
        r = run(*args, **kw)
        self.assertEqual(r.returncode, 2, f"{args}: {r.returncode}\n{r.stdout}\n{r.stderr}")
        self.assertIn(text, r.stderr, args)
        self.assertEqual(r.stdout, "", args)
        return r

    def test_empty_values_and_lists(self):
        infer = ["infer", "--hardware", "h20", "--model", "llama-3.1-8b", "--input-tokens", "10", "--output-tokens", "5"]
        self.expect(infer + ["--batch", ""], "--batch: expected a number, found nothing")
        self.expect(["classify", "--hardware", "h20", "--rules", ""], "--rules:")
        self.expect(["compare", "--hardware", "h20,,h100-sxm", "--model", "llama-3.1-8b", "--input-tokens", "10",
                     "--output-tokens", "5"], "--hardware: an empty item in the list")

    def test_bounds_name_the_flag(self):
        train = ["train", "--hardware", "dgx-a100", "--model", "gpt3-175b", "--devices", "64", "--global-batch", "64"]
        self.expect(train + ["--seq-len", "2e9"], "--seq-len: must be at most 16777216")
        self.expect(train + ["--seq-len", "2048", "--pp", "8", "--vp", "2000000000"], "--vp: must be at most 4096")
        self.expect(["train", "--hardware", "dgx-a100", "--model", "gpt3-175b", "--devices", "1e15", "--seq-len",
                     "2048", "--global-batch", "64"], "--devices: must be at most 16777216")
        self.expect(train + ["--seq-len", "2048", "--search", "--top", "50000"], "--top: must be at most 10000")
        self.expect(["infer", "--hardware", "h20", "--model", "llama-3.1-8b", "--input-tokens", "1e400",
                     "--output-tokens", "5"], "--input-tokens: the number '1e400' is out of range")
        # strtod's hexadecimal (0x10 = 16, 0x1p4 = 16) is not a number here.
        for hexadecimal in ("0x10", "0x1p4"):
            self.expect(["infer", "--hardware", "h20", "--model", "llama-3.1-8b", "--input-tokens", "100",
                         "--output-tokens", "5", "--batch", hexadecimal],
                        f"--batch: expected a decimal number, found '{hexadecimal}'")

    def test_a_search_in_which_no_plan_can_exist(self):
        self.expect(["train", "--hardware", "dgx-a100", "--model", "gpt3-175b", "--devices", "7", "--tp", "8",
                     "--seq-len", "2048", "--global-batch", "8", "--search"], "error:")

    def test_an_empty_catalog_directory(self):
        with tempfile.TemporaryDirectory() as d:
            r = run("infer", "--hardware", "h20", "--model", "llama-3.1-8b", "--input-tokens", "10",
                    "--output-tokens", "5", catalog=d)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("error:", r.stderr)

    def test_a_full_stdout_exits_non_zero(self):
        with open("/dev/full", "w") as full:
            r = subprocess.run([BIN, "catalog", "list", "chips", "--json"], stdout=full, stderr=subprocess.PIPE,
                               text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("could not write the output", r.stderr)

    def test_validate_with_nothing_predicted_is_an_error(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "cases.yaml")
            with open(path, "w") as f:
                f.write("cases:\n- id: a\n  kind: microbenchmark\n")
            self.expect(["validate", path], "no case could be predicted")

    def test_validate_names_a_field_of_the_wrong_type(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "cases.yaml")
            with open(path, "w") as f:
                f.write("cases:\n"
                        "- id: a\n  kind: training\n  hardware: {chip: H100 SXM, count: 8}\n"
                        "  model: {name: x}\n  workload: {tp: one, seq_len: 2048}\n")
            r = self.expect(["validate", path], "no case could be predicted")
            self.assertIn("cases.yaml:6:18:", r.stderr)
            self.assertIn("workload.tp: expected a whole number, found 'one'", r.stderr)


class CsvOutputs(unittest.TestCase):
    """Issue 11, item 12: CSV for every list result, warnings and reasons in columns."""

    def csv(self, *args):
        r = run(*args, "--csv")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.strip().splitlines()
        self.assertGreaterEqual(len(lines), 2, r.stdout)
        return [line.split(",")[0] for line in lines], lines[0]

    def test_compare_has_reason_and_warnings(self):
        rows, header = self.csv("compare", "--hardware", "h20,l20", "--model", "llama-3.1-70b", "--input-tokens",
                                "512", "--output-tokens", "256", "--tp", "2")
        self.assertTrue(header.endswith("reason,warnings"), header)
        self.assertEqual(rows[1:], ["h20", "l20"])

    def test_compare_rank_applies_to_every_row(self):
        args = ["compare", "--hardware", "cloudmatrix-384,hgx-h20", "--model", "llama-3.1-8b", "--input-tokens", "100",
                "--output-tokens", "10", "--json"]
        rows = {r["hardware"]: r for r in json.loads(run(*args).stdout)["results"]}
        packages = {r["hardware"]: r for r in json.loads(run(*args, "--rank", "package").stdout)["results"]}
        self.assertEqual(rows["cloudmatrix-384"]["rank"], "die")
        self.assertEqual(packages["cloudmatrix-384"]["rank"], "package")
        # a die holds half a package's memory; the H20 has one die, the same either way
        self.assertLess(rows["cloudmatrix-384"]["max_context_tokens"], packages["cloudmatrix-384"]["max_context_tokens"])
        self.assertEqual(rows["hgx-h20"]["output_tokens_per_s"], packages["hgx-h20"]["output_tokens_per_s"])
        r = run("compare", "--hardware", "hgx-h20", "--model", "llama-3.1-8b", "--input-tokens", "1", "--output-tokens", "1",
                "--rank", "chiplet")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--rank", r.stderr)

    def test_compare_csv_has_the_json_cost_columns_in_either_currency(self):
        args = ("compare", "--hardware", "hgx-h20,hgx-h100", "--model", "llama-3.1-8b", "--input-tokens", "1000",
                "--output-tokens", "200")
        j = json.loads(run(*args, "--json").stdout)
        r = run(*args, "--csv")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = list(csv_module.DictReader(io.StringIO(r.stdout)))
        self.assertEqual([x["hardware"] for x in rows], ["hgx-h20", "hgx-h100"])
        for row, res in zip(rows, j["results"]):
            for k in ("usd_per_device_hour", "usd_per_million_output_tokens", "usd_per_million_input_tokens",
                      "joules_per_output_token"):
                self.assertAlmostEqual(float(row[k]), res[k], delta=1e-5 * abs(res[k]))
            self.assertEqual(row["facility"], "us-2025")
        self.assertNotIn("cny_per_device_hour", rows[0])
        cny = list(csv_module.DictReader(io.StringIO(run(*args, "--csv", "--currency", "cny").stdout)))
        jc = json.loads(run(*args, "--json", "--currency", "cny").stdout)
        for row, res in zip(cny, jc["results"]):
            self.assertAlmostEqual(float(row["cny_per_million_output_tokens"]), res["cny_per_million_output_tokens"],
                                   delta=1e-5 * res["cny_per_million_output_tokens"])
            self.assertAlmostEqual(res["cny_per_device_hour"], res["usd_per_device_hour"] * jc["cny_per_usd"])
            self.assertAlmostEqual(float(row["cny_per_usd"]), jc["cny_per_usd"], delta=1e-4)
        # A chip without a price: empty cost cells and the reason.
        bare = list(csv_module.DictReader(io.StringIO(run("compare", "--hardware", "l20", "--model", "llama-3.1-8b",
                                                          "--input-tokens", "100", "--output-tokens", "10",
                                                          "--csv").stdout)))
        if bare[0]["cost_unknown"]:
            self.assertEqual(bare[0]["usd_per_device_hour"], "")

    def test_infer_train_classify_validate(self):
        self.csv("infer", "--hardware", "h20", "--model", "llama-3.1-8b", "--input-tokens", "10", "--output-tokens", "5")
        rows, header = self.csv("train", "--hardware", "dgx-a100", "--model", "llama-2-7b", "--devices", "8",
                                "--seq-len", "2048", "--global-batch", "16", "--search", "--top", "3")
        self.assertEqual(rows[1:], ["1", "2", "3"])
        self.assertIn("step_time_s", header)
        rows, _ = self.csv("classify", "--hardware", "h20")
        self.assertGreater(len(rows), 2)

    def test_json_and_csv_exclude_each_other(self):
        r = run("classify", "--hardware", "h20", "--json", "--csv")
        self.assertEqual(r.returncode, 2)


class Serve(unittest.TestCase):
    BASE = ("serve", "--hardware", "hgx-h100", "--model", "llama-3.1-70b", "--tp", "8")

    def test_json_contract(self):
        r = run(*self.BASE, "--input-tokens", "lognormal:800,300", "--output-tokens", "200", "--rate", "3",
                "--requests", "300", "--sla-ttft", "1", "--sla-tpot", "0.05", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        j = json.loads(r.stdout)
        for key in ("devices", "requests", "duration_s", "output_tokens_per_s", "output_tokens_per_s_per_device",
                    "input_tokens_per_s", "input_tokens_per_s_per_device", "requests_per_s", "goodput_requests_per_s",
                    "sla_attainment", "batch_mean", "kv_utilization_mean", "preemptions", "fits", "warnings"):
            self.assertIn(key, j)
        for key in ("ttft_s", "tpot_s", "e2e_latency_s", "queue_s"):
            self.assertEqual(set(j[key]), {"mean", "p50", "p90", "p99"}, key)
        self.assertEqual(j["requests"], 300)
        self.assertEqual(j["devices"], 8)
        self.assertLessEqual(j["goodput_requests_per_s"], j["requests_per_s"] * (1 + 1e-12))

    def test_mtp_acceptance_by_position(self):
        base = ("serve", "--hardware", "hgx-h200", "--model", "deepseek-v3", "--weights", "fp8", "--tp", "8",
                "--input-tokens", "1000", "--output-tokens", "100", "--concurrency", "1", "--requests", "2",
                "--mtp", "3")
        r = run(*base, "--mtp-acceptance", "0.9,0.7,0.5", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        m = json.loads(r.stdout)["mtp"]
        self.assertEqual(m["acceptance_by_position"], [0.9, 0.7, 0.5])
        self.assertAlmostEqual(m["tokens_per_step"], 1 + 0.9 + 0.63 + 0.315)
        # The model's figure by position: later drafts accept less.
        m = json.loads(run(*base, "--json").stdout)["mtp"]
        a = m["acceptance_by_position"]
        self.assertEqual(len(a), 3)
        self.assertGreater(a[0], a[1])
        self.assertGreater(a[1], a[2])
        for bad, why in ((("--mtp-acceptance", "0.9,0.8,0.7,0.6"), "at most one per draft position"),
                         (("--mtp-acceptance", "0.9,1.1"), "(0, 1]"),
                         (("--mtp-acceptance", "0"), "(0, 1]"),
                         (("--mtp-acceptance", "0.9,,0.8"), "--mtp-acceptance")):
            r = run(*base, *bad)
            self.assertEqual(r.returncode, 2, (bad, r.stdout, r.stderr))
            self.assertIn("--mtp-acceptance", r.stderr, bad)
            self.assertIn(why, r.stderr, bad)
            self.assertEqual(r.stdout, "", bad)

    def test_phase_decode_and_prefill(self):
        j = json.loads(run(*self.BASE, "--phase", "decode", "--batch", "max", "--context-tokens", "2048",
                           "--sla-tpot", "0.03", "--json").stdout)
        self.assertLessEqual(j["tpot_s"], 0.03)
        self.assertGreater(j["batch"], 0)
        self.assertIn("step_time_s", j)
        j = json.loads(run(*self.BASE, "--phase", "prefill", "--input-tokens", "4096", "--json").stdout)
        self.assertGreater(j["input_tokens_per_s_per_device"], 0)

    def test_max_rate_and_timeline(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "timeline.csv")
            r = run(*self.BASE, "--input-tokens", "1000", "--output-tokens", "100", "--max-rate", "--sla-ttft", "0.5",
                    "--requests", "300", "--timeline", path, "--json")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertGreater(json.loads(r.stdout)["max_rate_requests_per_s"], 0)
            with open(path) as f:
                lines = f.read().splitlines()
            self.assertEqual(lines[0].split(",")[0], "start_s")
            self.assertGreater(len(lines), 10)

    def test_pd_disaggregated(self):
        r = run("serve", "--hardware", "hgx-h100", "--model", "llama-3.1-70b", "--prefill", "devices=8,tp=8",
                "--decode", "devices=8,tp=8", "--decode-instances", "2", "--input-tokens", "2000", "--output-tokens",
                "300", "--rate", "2", "--requests", "200", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        j = json.loads(r.stdout)
        self.assertEqual(j["devices"], 24)
        self.assertEqual([p["role"] for p in j["pools"]], ["prefill", "decode"])

    def test_bad_input_exits_2_and_writes_nothing(self):
        with tempfile.TemporaryDirectory() as d:
            trace = os.path.join(d, "t.csv")
            with open(trace, "w") as f:
                f.write("arrival_s,input_tokens,output_tokens\n0,100,10\n0.1,12x,10\n")
            timeline = os.path.join(d, "timeline.csv")
            cases = [
                ((*self.BASE, "--trace", trace, "--timeline", timeline), "t.csv:3:5: input_tokens: expected a number"),
                ((*self.BASE, "--input-tokens", "100", "--output-tokens", "10", "--rate", "0"), "--rate: must be at least"),
                ((*self.BASE, "--input-tokens", "100", "--output-tokens", "10", "--rate", "-3"), "--rate"),
                ((*self.BASE, "--input-tokens", "100", "--output-tokens", "10", "--max-rate"), "--max-rate: needs an SLA"),
                ((*self.BASE, "--input-tokens", "100", "--output-tokens", "10", "--rate", "1", "--offline"), "give one load"),
                ((*self.BASE, "--phase", "decode", "--batch", "8"), "--context-tokens"),
                ((*self.BASE, "--phase", "prefill"), "--input-tokens: --phase prefill needs"),
                (("serve", "--hardware", "hgx-h100", "--model", "llama-3.1-405b", "--prefill", "devices=1",
                  "--decode", "devices=8,tp=8", "--input-tokens", "100", "--output-tokens", "10"),
                 "the prefill pool does not fit"),
                ((*self.BASE, "--input-tokens", "normal:100", "--output-tokens", "10"), "--input-tokens: normal takes 2"),
                ((*self.BASE, "--input-tokens", "100", "--output-tokens", "10", "--pd-search"), "--pd-search: searches"),
                ((*self.BASE, "--input-tokens", "100", "--output-tokens", "10", "--two-batch-overlap"),
                 "--two-batch-overlap: overlaps the expert-parallel dispatch and combine: needs a mixture-of-experts model"),
                ((*self.BASE, "--input-tokens", "100", "--output-tokens", "10", "--preemption", "evict"), "--preemption"),
                (("serve", "--hardware", "mi300x", "--model", "llama-3.1-8b", "--input-tokens", "100",
                  "--output-tokens", "10", "--rate", "1", "--preemption", "swap"),
                 "--preemption: swap needs the host link's bandwidth"),
                ((*self.BASE, "--input-tokens", "100", "--output-tokens", "10", "--json", "--timeline", "/nonexistent/dir/t.csv"),
                 "cannot write the timeline"),
            ]
            for args, text in cases:
                r = run(*args)
                self.assertEqual(r.returncode, 2, (args, r.stderr))
                self.assertIn(text, r.stderr, args)
                self.assertEqual(r.stdout, "", args)
            self.assertFalse(os.path.exists(timeline))
class Economics(unittest.TestCase):
    """Issue 13: `suanli cost` and `suanli fleet`, and the market records."""

    def test_capex_is_exactly_price_over_five_years_of_hours(self):
        r = run("cost", "--hardware", "h100-sxm", "--price-usd", "43800", "--life-years", "5",
                "--cost-of-capital", "0", "--power-w", "0", "--hosting-usd-per-kw-month", "0",
                "--maintenance-fraction", "0", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        j = json.loads(r.stdout)
        self.assertAlmostEqual(j["capex_usd_per_device_hour"], 43800 / (5 * 8760), places=12)
        self.assertAlmostEqual(j["usd_per_device_hour"], j["capex_usd_per_device_hour"], places=12)
        self.assertEqual(j["inputs"]["price_usd"]["from"], "--price-usd (all-in per device)")
        for key in ("power_usd_per_device_hour", "hosting_usd_per_device_hour", "maintenance_usd_per_device_hour"):
            self.assertEqual(j[key], 0, key)
        self.assertIn("low", j)
        self.assertIn("high", j)

    def test_device_hour_from_the_records(self):
        r = run("cost", "--hardware", "hgx-h20", "--region", "china-2025", "--currency", "cny", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        j = json.loads(r.stdout)
        parts = sum(j[k] for k in ("capex_usd_per_device_hour", "power_usd_per_device_hour",
                                   "hosting_usd_per_device_hour", "maintenance_usd_per_device_hour"))
        self.assertAlmostEqual(parts, j["usd_per_device_hour"], places=9)
        self.assertLessEqual(j["low"]["usd_per_device_hour"], j["usd_per_device_hour"])
        self.assertGreaterEqual(j["high"]["usd_per_device_hour"], j["usd_per_device_hour"])
        self.assertIn("hgx-h20-cn-2024-07", j["inputs"]["price_usd"]["from"])
        self.assertIn("china-2025", j["inputs"]["pue"]["from"])
        self.assertAlmostEqual(j["cny_per_device_hour"], j["usd_per_device_hour"] * j["fx"]["cny_per_usd"])
        text = run("cost", "--hardware", "hgx-h20", "--region", "china-2025").stdout
        for word in ("capex (annuity)", "Inputs", "Sensitivity"):
            self.assertIn(word, text)

    def test_serving_cost_per_token(self):
        r = run("cost", "--hardware", "hgx-h100", "--model", "llama-3.1-8b", "--input-tokens", "1000",
                "--output-tokens", "200", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        j = json.loads(r.stdout)
        s = j["serving"]
        per_request = j["usd_per_device_hour"] * s["devices"] / (s["output_tokens_per_s"] / 200) / 3600
        # Continuous batching: the iteration's device time split by its prefill and decode passes.
        share = s["prefill_pass_s"] / (s["prefill_pass_s"] + s["decode_pass_s"])
        self.assertAlmostEqual(s["prefill_device_share"], share, delta=1e-12)
        self.assertAlmostEqual(j["usd_per_million_output_tokens"], per_request * (1 - share) / 200 * 1e6, delta=1e-9)
        self.assertAlmostEqual(j["usd_per_million_input_tokens"], per_request * share / 1000 * 1e6, delta=1e-9)
        self.assertGreater(j["joules_per_output_token"], 0)
        self.assertLessEqual(j["low"]["usd_per_million_output_tokens"], j["usd_per_million_output_tokens"])

    def test_serving_cost_of_a_simulated_run(self):
        base = ["cost", "--hardware", "hgx-h100", "--model", "llama-3.1-8b", "--serve", "--input-tokens", "1000",
                "--output-tokens", "200", "--requests", "200"]
        r = run(*base, "--rate", "5", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        j = json.loads(r.stdout)
        s = j["simulation"]
        self.assertEqual(s["requests"], 200)
        # The deployment held for the run's wall time, split by the simulator's per-phase device time.
        run_cost = j["usd_per_device_hour"] * s["devices"] * s["duration_s"] / 3600
        share = s["prefill_device_s"] / (s["prefill_device_s"] + s["decode_device_s"])
        self.assertAlmostEqual(s["prefill_device_share"], share, delta=1e-12)
        self.assertGreater(share, 0)
        self.assertLess(share, 1)
        self.assertLessEqual(s["prefill_device_s"] + s["decode_device_s"], s["device_s"] * (1 + 1e-12))
        self.assertAlmostEqual(j["usd_per_million_output_tokens"], run_cost * (1 - share) / s["output_tokens"] * 1e6,
                               delta=1e-9 * j["usd_per_million_output_tokens"])
        self.assertAlmostEqual(j["usd_per_million_input_tokens"], run_cost * share / s["input_tokens"] * 1e6,
                               delta=1e-9 * j["usd_per_million_input_tokens"])
        self.assertAlmostEqual(j["joules_per_output_token"],
                               j["wall_power_w_per_device"] * s["devices"] * s["duration_s"] / s["output_tokens"],
                               delta=1e-9 * j["joules_per_output_token"])
        self.assertLessEqual(j["low"]["usd_per_million_output_tokens"], j["usd_per_million_output_tokens"])
        self.assertGreaterEqual(j["high"]["usd_per_million_output_tokens"], j["usd_per_million_output_tokens"])
        # A slower rate holds the same devices longer for the same tokens: dearer per token.
        slow = json.loads(run(*base, "--rate", "1", "--json").stdout)
        self.assertGreater(slow["usd_per_million_output_tokens"], j["usd_per_million_output_tokens"])
        # At an SLA: the run at the highest rate that meets it.
        m = run(*base, "--sla-tpot", "0.03", "--max-rate", "--json")
        self.assertEqual(m.returncode, 0, m.stderr)
        mj = json.loads(m.stdout)
        self.assertGreater(mj["simulation"]["max_rate_requests_per_s"], 0)
        self.assertGreaterEqual(mj["simulation"]["sla_attainment"], 0.9)
        text = run(*base, "--rate", "5").stdout
        self.assertIn("serve, simulated", text)
        self.assertIn("per million output tokens", text)

    def test_simulated_cost_errors_exit_two_naming_the_flag(self):
        serve = ["cost", "--hardware", "hgx-h100", "--model", "llama-3.1-8b", "--input-tokens", "1000",
                 "--output-tokens", "200"]
        cases = [
            (["cost", "--hardware", "hgx-h100", "--serve", "--rate", "5"], "--model"),
            (serve + ["--rate", "5"], "--serve"),
            (serve + ["--serve", "--batch", "8"], "--batch"),
            (serve + ["--serve", "--tokens", "1e9"], "--tokens"),
            (serve + ["--serve", "--phase", "decode"], "--phase"),
            (serve + ["--serve", "--max-rate"], "--max-rate"),
            (serve + ["--serve", "--concurrency", "max"], "--concurrency"),
            (serve + ["--serve", "--requests", "50", "--sla-tpot", "0.000001", "--max-rate"], "--max-rate"),
        ]
        for args, text in cases:
            r = run(*args)
            self.assertEqual(r.returncode, 2, (args, r.stdout, r.stderr))
            self.assertIn(text, r.stderr, args)

    def test_catalog_lists_prices_facilities_and_rates(self):
        for what in ("prices", "facilities", "fx"):
            r = run("catalog", "list", what, "--json")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(json.loads(r.stdout)[what], what)
        j = json.loads(run("catalog", "show", "hgx-h20-cn-2024-07", "--json").stdout)
        self.assertEqual(j["subject"], "hgx-h20")
        self.assertEqual(j["figures"]["cny"]["value"], 1200000)

    def test_cost_errors_exit_two_naming_the_flag(self):
        cases = [
            (["cost", "--hardware", "ascend-910b4"], "--price-usd"),
            (["cost", "--hardware", "h20", "--region", "mars"], "--region"),
            (["cost", "--hardware", "h20", "--date", "2025-13"], "--date"),
            (["cost", "--hardware", "h20", "--date", "2025-13-40"], "--date"),
            (["cost", "--hardware", "h20", "--date", "2025-02-30"], "--date"),
            (["cost", "--hardware", "h20", "--price-usd", "1", "--price-cny", "1"], "not both"),
            (["cost", "--hardware", "h20", "--input-tokens", "10"], "--model"),
            (["cost", "--hardware", "h20", "--model", "llama-3.1-8b", "--devices", "8", "--input-tokens", "1"], "--input-tokens"),
            (["cost", "--hardware", "h20", "--model", "llama-3.1-8b", "--devices", "8", "--seq-len", "1024",
              "--global-batch", "8"], "--tokens"),
            (["cost", "--hardware", "h20", "--pue", "0.5"], "--pue"),
        ]
        for args, text in cases:
            r = run(*args)
            self.assertEqual(r.returncode, 2, (args, r.stdout, r.stderr))
            self.assertIn(text, r.stderr, args)

    def test_toy_fleet(self):
        r = run("fleet", os.path.join(REPO, "examples", "fleet", "toy.yaml"), "--json", "--shock")
        self.assertEqual(r.returncode, 0, r.stderr)
        j = json.loads(r.stdout)
        self.assertTrue(j["feasible"])
        self.assertEqual([p["period"] for p in j["periods"]], ["2025Q1", "2025Q2"])
        self.assertAlmostEqual(sum(p["cost_usd"] for p in j["periods"]), j["total_cost_usd"], delta=1e-6 * j["total_cost_usd"])
        for p in j["periods"]:
            self.assertAlmostEqual(p["served"]["chat"], 1.0)
            # Utilisation is demand served / capacity owned, from the plan's own figures.
            capacity = {c["system"]: c["capacity"][0]["per_node"] for c in j["candidates"]}
            owned = sum(n * capacity[s] for s, n in p["units"].items())
            need = {"2025Q1": 20000, "2025Q2": 35000}[p["period"]]
            self.assertAlmostEqual(p["utilization"], need / owned, delta=1e-9)
        self.assertEqual(j["shocks"][0]["shock"], "vendor NVIDIA unavailable")
        self.assertEqual(j["shocks"][0]["served_fraction"], 0)
        self.assertIn("binding", j)

    def test_fleet_gap_and_time_limit(self):
        toy = os.path.join(REPO, "examples", "fleet", "toy.yaml")
        r = run("fleet", toy, "--json", "--gap", "0")
        self.assertEqual(r.returncode, 0, r.stderr)
        j = json.loads(r.stdout)
        self.assertEqual(j["solver_status"], "proven optimal")
        self.assertEqual(j["solver_relative_gap"], 0)
        for flag, value, words in (("--gap", "-1", "at least 0"), ("--gap", "0.9", "at most 0.5"),
                                   ("--time-limit", "0", "at least 0.1"), ("--gap", "x", "--gap")):
            r = run("fleet", toy, flag, value)
            self.assertEqual(r.returncode, 2, (flag, value, r.stderr))
            self.assertIn(flag, r.stderr)
            self.assertIn(words, r.stderr)
        # A proof the limit cuts short is an internal error with the solver's status.
        r = run("fleet", os.path.join(REPO, "bench", "fleet-large.yaml"), "--gap", "0", "--time-limit", "0.1")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("did not finish", r.stderr)
        self.assertIn("stopped (status", r.stderr)
        # The capacities' simulations have their own limit: exit 2, naming it.
        r = run("fleet", os.path.join(REPO, "examples", "fleet", "china-2025-deepseek.yaml"), "--capacity-time-limit", "0.1")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("capacity_time_limit: the capacities' simulations and searches took more than 0.1 s", r.stderr)
        self.assertIn("--capacity-time-limit", r.stderr)
        self.assertEqual(r.stdout, "")
        for flag in ("--capacity-time-limit", "--threads"):
            r = run("fleet", toy, flag, "0")
            self.assertEqual(r.returncode, 2, (flag, r.stderr))
            self.assertIn(flag, r.stderr)

    def test_bad_scenarios_exit_two_with_file_line_key(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "bad.yaml")
            with open(path, "w") as f:
                f.write("name: bad\nfacility: us-2025\nperiods: [2025Q1]\ncandidates:\n"
                        "  - {system: hgx-h100, site: dc2}\ndemands: []\nbudgett: 1\n")
            r = run("fleet", path)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(path + ":7", r.stderr)
            self.assertIn("budgett", r.stderr)
            self.assertIn("did you mean 'budget'", r.stderr)
            self.assertIn("candidates[0].site", r.stderr)
            r = run("fleet", os.path.join(d, "missing.yaml"))
            self.assertEqual(r.returncode, 2, r.stderr)
            with open(path, "w") as f:
                f.write("name: [unclosed\n")
            self.assertEqual(run("fleet", path).returncode, 2)

    def test_an_infeasible_scenario_is_a_result(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "tight.yaml")
            with open(path, "w") as f:
                f.write("name: tight\nfacility: us-2025\nperiods: [2025Q1]\nsites: [{id: dc, power_mw: 0.001}]\n"
                        "candidates:\n  - {system: hgx-h100, price_usd_per_node: 300000, capacity: {chat: 9000}}\n"
                        "demands:\n  - {id: chat, kind: serving, model: llama-3.1-8b, input_tokens: 1, output_tokens: 1,"
                        " output_tokens_per_s: 1000}\n")
            r = run("fleet", path, "--json")
            self.assertEqual(r.returncode, 0, r.stderr)
            j = json.loads(r.stdout)
            self.assertFalse(j["feasible"])
            self.assertTrue(any(c.startswith("power dc 2025Q1") or c.startswith("demand chat") for c in j["conflicts"]), j["conflicts"])

    def test_every_example_scenario_plans(self):
        folder = os.path.join(REPO, "examples", "fleet")
        for name in sorted(os.listdir(folder)):
            r = run("fleet", os.path.join(folder, name), "--json")
            self.assertEqual(r.returncode, 0, (name, r.stderr))
            j = json.loads(r.stdout)
            self.assertTrue(j["feasible"], name)
            for p in j["periods"]:
                for demand, served in p["served"].items():
                    self.assertAlmostEqual(served, 1.0, msg=(name, p["period"], demand))

    def test_seed_a_h20_blocked_in_2025q2_and_licensed_after(self):
        r = run("fleet", os.path.join(REPO, "examples", "fleet", "china-2025-deepseek.yaml"), "--json")
        j = json.loads(r.stdout)
        h20 = next(c for c in j["candidates"] if c["chip"] == "h20")
        self.assertEqual([b["period"] for b in h20["not_purchasable"]], ["2025Q2"])
        self.assertIn("us-2025-04-h20", h20["not_purchasable"][0]["why"])
        q2 = next(p for p in j["periods"] if p["period"] == "2025Q2")
        self.assertEqual(q2["bought"].get("hgx-h20", 0), 0)

    def test_compare_has_cost_columns(self):
        args = ["compare", "--hardware", "hgx-h20,hgx-h100,hgx-h800", "--model", "llama-3.1-8b", "--input-tokens", "1000",
                "--output-tokens", "200", "--concurrency", "max"]
        j = json.loads(run(*args, "--region", "china-2025", "--json").stdout)
        self.assertEqual(j["facility"], "china-2025")
        rows = {r["hardware"]: r for r in j["results"]}
        one = json.loads(run("cost", "--hardware", "hgx-h20", "--region", "china-2025", "--model", "llama-3.1-8b",
                             "--input-tokens", "1000", "--output-tokens", "200", "--json").stdout)
        self.assertAlmostEqual(rows["hgx-h20"]["usd_per_million_output_tokens"], one["usd_per_million_output_tokens"])
        self.assertIsNone(rows["hgx-h800"]["usd_per_million_output_tokens"])
        self.assertIn("price", rows["hgx-h800"]["cost_unknown"])
        text = run(*args, "--currency", "cny").stdout
        self.assertIn("CNY/Mtok", text)
        r = run(*args, "--region", "atlantis")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--region", r.stderr)


class Ranks(unittest.TestCase):
    """--rank die|package (issue 15): on CloudMatrix 384 a device is one 910C die unless asked otherwise."""

    def infer(self, *extra):
        r = run("infer", "--hardware", "cloudmatrix-384", "--model", "qwen3-8b", "--input-tokens", "1024",
                "--output-tokens", "128", "--batch", "8", "--json", *extra)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_infer_defaults_to_the_systems_rank(self):
        die, package = self.infer(), self.infer("--rank", "package")
        self.assertEqual(die["rank"], "die")
        self.assertEqual(package["rank"], "package")
        self.assertEqual(self.infer("--rank", "die"), die)
        self.assertAlmostEqual(die["memory"]["capacity_bytes"], package["memory"]["capacity_bytes"] / 2, delta=1)
        self.assertGreater(die["tpot_s"], package["tpot_s"])  # half the bandwidth for the same weights
        bare = run("infer", "--hardware", "ascend-910c", "--model", "qwen3-8b", "--input-tokens", "1024",
                   "--output-tokens", "128", "--batch", "8", "--json")
        self.assertEqual(json.loads(bare.stdout)["rank"], "package")  # a bare chip: its package

    def test_serve_and_train_take_the_rank(self):
        serve = ["serve", "--hardware", "cloudmatrix-384", "--model", "qwen3-8b", "--input-tokens", "512",
                 "--output-tokens", "64", "--concurrency", "8", "--requests", "32", "--json"]
        die = json.loads(run(*serve).stdout)
        package = json.loads(run(*serve, "--rank", "package").stdout)
        self.assertEqual((die["rank"], package["rank"]), ("die", "package"))
        self.assertGreater(die["tpot_s"]["mean"], package["tpot_s"]["mean"])
        train = ["train", "--hardware", "cloudmatrix-384", "--model", "llama-3.1-8b", "--devices", "16", "--tp", "2",
                 "--seq-len", "4096", "--global-batch", "64", "--json"]
        die = json.loads(run(*train).stdout)
        package = json.loads(run(*train, "--rank", "package").stdout)
        self.assertEqual((die["rank"], package["rank"]), ("die", "package"))
        self.assertGreater(die["step_time_s"], package["step_time_s"])

    def test_a_die_hour_is_half_a_package_hour(self):
        die = json.loads(run("cost", "--hardware", "cloudmatrix-384", "--json").stdout)
        package = json.loads(run("cost", "--hardware", "cloudmatrix-384", "--rank", "package", "--json").stdout)
        self.assertEqual((die["rank"], package["rank"]), ("die", "package"))
        self.assertAlmostEqual(die["usd_per_device_hour"], package["usd_per_device_hour"] / 2,
                               delta=1e-9 * package["usd_per_device_hour"])

    def test_classify_sees_the_package(self):
        system = json.loads(run("classify", "--hardware", "cloudmatrix-384", "--json").stdout)
        chip = json.loads(run("classify", "--hardware", "ascend-910c", "--json").stdout)
        self.assertEqual(system, chip)

    def test_bad_rank_exits_2_naming_the_flag(self):
        for command in (["infer", "--input-tokens", "8", "--output-tokens", "8"],
                        ["serve", "--input-tokens", "8", "--output-tokens", "8", "--concurrency", "1"],
                        ["train", "--model", "llama-3.1-8b", "--devices", "16", "--seq-len", "8", "--global-batch", "16"]):
            args = command[:1] + ["--hardware", "cloudmatrix-384", "--rank", "chip"] + command[1:]
            if "--model" not in args:
                args += ["--model", "qwen3-8b"]
            r = run(*args)
            self.assertEqual(r.returncode, 2, (args, r.stdout, r.stderr))
            self.assertIn("--rank", r.stderr)
            self.assertEqual(r.stdout, "")

    def test_bad_dies_names_file_line_and_key(self):
        import shutil
        with tempfile.TemporaryDirectory() as d:
            cat = os.path.join(d, "catalog")
            shutil.copytree(os.path.join(REPO, "catalog"), cat)
            path = os.path.join(cat, "chips", "huawei", "ascend-910c.yaml")
            with open(path) as f:
                lines = f.read().split("\n")
            line = next(i for i, t in enumerate(lines) if t.startswith("dies:")) + 1
            lines[line - 1] = "dies: {value: 2.5, basis: datasheet, source: [HW_MODELZOO]}"
            with open(path, "w") as f:
                f.write("\n".join(lines))
            r = run("catalog", "list", "chips", catalog=cat)
            self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
            for t in (f"ascend-910c.yaml:{line}", "dies.value", "whole number"):
                self.assertIn(t, r.stderr)
