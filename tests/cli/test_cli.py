"""End-to-end tests of the suanli command line: the contract scripts rely on.

Run by ctest with SUANLI_BIN (the built binary) and SUANLI_REPO set.
"""
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

    def test_missing_catalog_dir(self):
        self.assertBadInput(run("catalog", "list", "chips", catalog="/nonexistent/catalog"), "catalog directory not found")


if __name__ == "__main__":
    unittest.main()
