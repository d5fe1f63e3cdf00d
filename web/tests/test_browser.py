"""The web UI in a real browser: headless Chromium (Debian chromium,
chromium-driver, python3-selenium) loads each page, submits a query, and the
charts must hold the series and values of the JSON API's answer to the same
request. A screenshot per page is kept in $SUANLI_SCREENSHOTS (default
BUILD/web-screenshots), and the chart exports (PNG, SVG, CSV) are downloaded.
Skipped, saying so, only where chromium or its driver is not installed."""
import glob
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from server import BIN, Server  # noqa: E402

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")
if not (CHROMIUM and DRIVER):
    pytest.skip("browser tests need Debian's chromium and chromium-driver (scripts/install-deps installs them); "
                f"found chromium={CHROMIUM}, chromedriver={DRIVER}", allow_module_level=True)
if not BIN:
    pytest.skip("SUANLI_BIN not set", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

SHOTS = os.environ.get("SUANLI_SCREENSHOTS") or os.path.join(os.path.dirname(BIN), "..", "..", "web-screenshots")


@pytest.fixture(scope="module")
def server():
    s = Server()
    if any("no web assets found" in line for line in s.log):
        s.stop()
        pytest.fail("suanli web found no web assets: build them (scripts/build-web, or SUANLI_BUILD_WEB_ASSETS=ON)")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def downloads():
    d = tempfile.mkdtemp(prefix="suanli-downloads-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(downloads):
    o = webdriver.ChromeOptions()
    o.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1100",
              "--disable-extensions", "--no-first-run"):
        o.add_argument(a)
    o.add_experimental_option("prefs", {"download.default_directory": downloads, "download.prompt_for_download": False})
    d = webdriver.Chrome(service=Service(DRIVER), options=o)
    d.set_page_load_timeout(60)
    yield d
    d.quit()


def api(server, command, request):
    r = urllib.request.Request(f"{server.url}/api/{command}", data=json.dumps(request).encode(),
                               headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(r, timeout=60) as f:
        return json.load(f)


def done(browser):
    return int(browser.execute_script("return document.body.dataset.done || '0'"))


def wait_ready(browser, after=0, timeout=60):
    """The page's state once a render numbered above `after` has finished."""
    WebDriverWait(browser, timeout).until(
        lambda d: done(d) > after and d.execute_script("return document.body.dataset.state") in ("ready", "error"))
    return browser.execute_script("return document.body.dataset.state")


def act(browser, action):
    """Does `action` and waits for the render it starts; the page's state after."""
    before = done(browser)
    action()
    return wait_ready(browser, before)


def series(browser, chart):
    return browser.execute_script(
        "const c = window.suanliCharts[arguments[0]]; if (!c) return null;"
        "return c.getOption().series.map(s => ({name: s.name, data: s.data.map(d => "
        "  d !== null && typeof d === 'object' && !Array.isArray(d) ? d.value : d), markLine: s.markLine}));", chart)


def shot(browser, name):
    os.makedirs(SHOTS, exist_ok=True)
    browser.save_screenshot(os.path.join(SHOTS, f"{name}.png"))


def every_chart_exports(browser):
    """Clicks every chart's PNG, SVG and CSV buttons (the downloads caught in the page):
    each chart gives a PNG, an SVG and its plotted data as CSV."""
    got = browser.execute_async_script("""
      const done = arguments[arguments.length - 1];
      const click = HTMLAnchorElement.prototype.click;
      const objectUrl = URL.createObjectURL;
      const seen = [];
      const blobs = {};  // the page's CSP lets no fetch read a blob: or data: URL back: keep the Blobs
      URL.createObjectURL = (b) => { const u = objectUrl(b); blobs[u] = b; return u; };
      HTMLAnchorElement.prototype.click = function () { seen.push([this.download, this.href]); };
      try {
        for (const b of document.querySelectorAll('.chart-box .exports button')) b.click();
      } finally {
        HTMLAnchorElement.prototype.click = click;
        URL.createObjectURL = objectUrl;
      }
      Promise.all(seen.map(async ([name, href]) => {
        let bytes;
        if (href.startsWith("data:")) {
          bytes = Uint8Array.from(atob(href.slice(href.indexOf(",") + 1)), (c) => c.charCodeAt(0));
        } else {
          bytes = new Uint8Array(await blobs[href].arrayBuffer());
        }
        return [name, Array.from(bytes.slice(0, 8)), new TextDecoder().decode(bytes.slice(0, 4000))];
      })).then((files) => done({files, charts: Object.keys(window.suanliCharts)}),
               (e) => done({error: String(e)}));
    """)
    assert "error" not in got, got
    files = {name: (head, text) for name, head, text in got["files"]}
    assert got["charts"]
    assert sorted(files) == sorted(f"{c}.{ext}" for c in got["charts"] for ext in ("png", "svg", "csv"))
    for c in got["charts"]:
        assert files[f"{c}.png"][0] == list(b"\x89PNG\r\n\x1a\n"), c
        assert files[f"{c}.svg"][1].lstrip().startswith("<svg"), c
        rows = files[f"{c}.csv"][1].splitlines()
        assert rows[0] == "series,category,x,y" and len(rows) > 1, (c, rows[:3])
    return got["charts"]


def set_field(browser, form, key, value):
    e = browser.find_element(By.CSS_SELECTOR, f"#form-{form} [name={key}]")
    e.clear()
    e.send_keys(str(value))


def close(a, b):
    return a == pytest.approx(b, rel=1e-12, abs=1e-300)


def open_page(browser, server, page):
    browser.get(f"{server.url}/#{page}")
    browser.refresh()  # a hash change alone keeps the old page's state
    assert wait_ready(browser) == "ready", browser.find_element(By.ID, "page").text


COMPARE = {"hardware": "h20,h100-sxm,h200-sxm,b200,mi300x,gaudi3,ascend-910b", "model": "llama-3.1-70b",
           "input_tokens": 2048, "output_tokens": 512, "tp": 8, "batch": 16}


def test_compare_page(browser, server, downloads):
    open_page(browser, server, "compare")
    want = api(server, "compare", COMPARE)["results"]
    s = {x["name"]: x["data"] for x in series(browser, "throughput")}
    assert [close(a, r["output_tokens_per_s"]) for a, r in zip(s["output tokens/s"], want)] == [True] * len(want)
    lat = {x["name"]: x["data"] for x in series(browser, "latency")}
    assert lat["TTFT"] == pytest.approx([r["ttft_s"] for r in want])
    bounds = {x["name"]: x["data"] for x in series(browser, "bounds-decode")}
    assert bounds["memory-bound"] == pytest.approx([r["breakdown"]["decode"]["memory_bound_s"] for r in want])
    shot(browser, "compare")
    assert set(every_chart_exports(browser)) == {"throughput", "per-kw", "per-usd", "latency", "bounds-prefill",
                                                 "bounds-decode"}
    # A new query: batch 64 on two chips.
    set_field(browser, "compare", "hardware", "h20,h100-sxm")
    set_field(browser, "compare", "batch", 64)
    assert act(browser, browser.find_element(By.ID, "submit-compare").click) == "ready"
    want = api(server, "compare", {**COMPARE, "hardware": "h20,h100-sxm", "batch": 64})["results"]
    s = {x["name"]: x["data"] for x in series(browser, "per-kw")}
    assert s["output tokens/s per kW"] == pytest.approx([r["output_tokens_per_s_per_kw"] for r in want])
    # Every chart exports its image and data.
    box = browser.find_element(By.ID, "chart-throughput").find_element(By.XPATH, "..")
    for label in ("PNG", "SVG", "CSV"):
        box.find_element(By.XPATH, f".//button[text()='{label}']").click()
    expected = ["throughput.csv", "throughput.png", "throughput.svg"]
    files = []
    deadline = time.time() + 30
    while time.time() < deadline:  # until the downloads end (no .crdownload left)
        files = sorted(os.path.basename(f) for f in glob.glob(os.path.join(downloads, "throughput.*")))
        if files == expected:
            break
        time.sleep(0.2)
    assert files == expected
    with open(os.path.join(downloads, "throughput.csv")) as f:
        rows = f.read().splitlines()
    assert rows[0] == "series,category,x,y" and rows[1].startswith("output tokens/s,h20,h20,")
    assert float(rows[1].split(",")[3]) == pytest.approx(want[0]["output_tokens_per_s"])
    with open(os.path.join(downloads, "throughput.svg")) as f:
        assert f.read().lstrip().startswith("<svg")
    with open(os.path.join(downloads, "throughput.png"), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_a_bad_query_shows_the_librarys_message(browser, server):
    open_page(browser, server, "compare")
    set_field(browser, "compare", "input_tokens", 0)
    assert act(browser, browser.find_element(By.ID, "submit-compare").click) == "error"
    assert browser.find_element(By.ID, "error").text == "input_tokens: must be at least 1, found '0'"
    shot(browser, "compare-error")


def test_train_page(browser, server):
    open_page(browser, server, "train")
    r = api(server, "train", {"hardware": "h100-sxm", "model": "llama-3.1-70b", "devices": 256, "seq_len": 4096,
                              "global_batch": 512, "search": True, "top": 500, "pareto": True})
    s = {x["name"]: x["data"] for x in series(browser, "plans")}
    assert len(s["top plans"]) == len(r["top"]) > 10
    assert s["top plans"][0] == pytest.approx([r["top"][0]["memory"]["total_bytes"] / 1e9, r["top"][0]["mfu"]])
    assert len(s["pareto front"]) == len(r["pareto"])
    rows = browser.find_elements(By.CSS_SELECTOR, "#plans-table tr")
    assert len(rows) == 11
    shot(browser, "train")
    assert every_chart_exports(browser) == ["plans"]


def test_export_page(browser, server):
    open_page(browser, server, "export")
    r = api(server, "classify", {"hardware": "all"})["results"]
    s = series(browser, "export")
    points = {tuple(p) for x in s if x["name"] != "thresholds" for p in x["data"]}
    h20 = next(x for x in r if x["chip"] == "h20" and x["rules"] == "us-2023-10")
    assert (h20["tpp"], h20["performance_density"]) in points
    lines = next(x for x in s if x["name"] == "thresholds")["markLine"]["data"]
    assert {"TPP 4800", "TPP 2400", "TPP 1600", "PD 5.92", "PD 3.2", "PD 1.6"} <= {d["name"] for d in lines}
    shot(browser, "export")
    # Hover on the H20: its category, the rule's reasons and the headroom to each threshold.
    tip = browser.execute_async_script("""
      const done = arguments[arguments.length - 1];
      const c = window.suanliCharts["export"];
      const series = c.getOption().series;
      for (let i = 0; i < series.length; i++) {
        const j = (series[i].data || []).findIndex((d) => d && d.name === "h20");
        if (j < 0) continue;
        c.dispatchAction({type: "showTip", seriesIndex: i, dataIndex: j});
        setTimeout(() => {
          const box = [...document.querySelectorAll("#chart-export div")].find((d) => d.innerHTML.includes("<b>h20</b>"));
          done(box ? box.innerText : null);
        }, 300);
        return;
      }
      done(null);
    """)
    assert tip is not None and tip.startswith("h20: " + h20["category"]), tip
    assert h20["reasons"] and h20["headroom"]
    for text in h20["reasons"] + [h["note"] for h in h20["headroom"]]:
        assert text in tip, (text, tip)
    shot(browser, "export-hover")
    assert every_chart_exports(browser) == ["export"]
    assert act(browser, lambda: Select(browser.find_element(By.ID, "rule-set")).select_by_value("us-2022-10")) == "ready"
    lines = next(x for x in series(browser, "export") if x["name"] == "thresholds")["markLine"]["data"]
    assert "TPP 4800" in {d["name"] for d in lines} and "PD 5.92" not in {d["name"] for d in lines}


def test_catalog_page(browser, server):
    open_page(browser, server, "catalog")
    link = browser.find_element(By.XPATH, "//table[@id='catalog-list']//a[text()='h20']")
    assert act(browser, link.click) == "ready"
    text = browser.find_element(By.ID, "record-figures").text
    assert "compute.fp8" in text and "296 TFLOPS" in text and "VIPERA_H20" in text
    # Every figure of the record with its basis and at least one source, as the API gives them.
    record = json.loads(urllib.request.urlopen(f"{server.url}/api/record/h20", timeout=30).read())
    shown = {}
    for tr in browser.find_elements(By.CSS_SELECTOR, "#record-figures tr")[1:]:
        cells = [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
        shown[cells[0]] = cells
    assert set(shown) == set(record["figures"])
    for key, f in record["figures"].items():
        assert f["sources"] and shown[key][3].split() == f["sources"], key
        assert shown[key][2] == f["basis"], key
    shot(browser, "catalog")
    source = browser.find_element(By.XPATH, "//table[@id='record-figures']//a[text()='VIPERA_H20']")
    assert act(browser, source.click) == "ready"
    fields = browser.find_element(By.ID, "record-fields").text
    assert "id VIPERA_H20" in fields and "locator" in fields


def test_any_command_page(browser, server):
    open_page(browser, server, "run")
    Select(browser.find_element(By.ID, "command")).select_by_value("classify")
    set_field(browser, "classify", "hardware", "h20")
    assert act(browser, browser.find_element(By.ID, "submit-classify").click) == "ready"
    shown = json.loads(browser.find_element(By.ID, "json").text)
    assert shown == api(server, "classify", {"hardware": "h20"})
    shot(browser, "run")


def test_latency_throughput_page(browser, server):
    open_page(browser, server, "curve")
    base = {"hardware": "h20", "model": "llama-3.1-70b", "input_tokens": 2048, "output_tokens": 512, "tp": 8}
    want = [api(server, "infer", {**base, "batch": b}) for b in (1, 2, 4, 8, 16, 32, 64, 128, 256)]
    want = [w for w in want if w["fits"]]
    s = {x["name"]: x for x in series(browser, "curve")}
    flat = lambda points: [v for p in points for v in p]  # noqa: E731
    assert len(s["TPOT"]["data"]) == len(want) > 3
    assert flat(s["TPOT"]["data"]) == pytest.approx(flat([w["output_tokens_per_s"], w["tpot_s"]] for w in want))
    assert flat(s["TTFT"]["data"]) == pytest.approx(flat([w["output_tokens_per_s"], w["ttft_s"]] for w in want))
    assert s["TPOT"]["markLine"]["data"][0]["yAxis"] == pytest.approx(0.05)
    shot(browser, "curve")
    assert every_chart_exports(browser) == ["curve"]


SERVE = {"hardware": "h20", "model": "llama-3.1-70b", "tp": 8, "input_tokens": 2048, "output_tokens": 512,
         "requests": 400, "sla_ttft": 2, "sla_tpot": 0.05}


def test_serve_page(browser, server, downloads):
    open_page(browser, server, "serve")
    rates = [0.25, 0.5, 1, 1.5, 2, 3]
    want = [api(server, "serve", {**SERVE, "rate": r}) for r in rates]
    fit = [w for w in want if w["fits"]]
    assert len(fit) >= 4
    flat = lambda points: [v for p in points for v in p]  # noqa: E731
    for chart, key, name, sla in (("serve-ttft", "ttft_s", "TTFT", 2), ("serve-tpot", "tpot_s", "TPOT", 0.05)):
        s = {x["name"]: x for x in series(browser, chart)}
        for p in ("p50", "p90"):
            assert flat(s[f"{name} {p}"]["data"]) == pytest.approx(flat([w["output_tokens_per_s"], w[key][p]]
                                                                         for w in fit)), (chart, p)
        assert s[f"{name} p90"]["markLine"]["data"][0]["yAxis"] == pytest.approx(sla)
    rows = browser.find_elements(By.CSS_SELECTOR, "#serve-table tr")
    assert len(rows) == len(rates) + 1
    shot(browser, "serve")
    assert sorted(every_chart_exports(browser)) == ["serve-tpot", "serve-ttft"]
    # A new sweep: two rates, a tighter TPOT SLA.
    r = browser.find_element(By.ID, "rates")
    r.clear()
    r.send_keys("1,2")
    set_field(browser, "serve", "sla_tpot", 0.04)
    assert act(browser, browser.find_element(By.ID, "submit-serve").click) == "ready"
    s = {x["name"]: x for x in series(browser, "serve-tpot")}
    want = [api(server, "serve", {**SERVE, "sla_tpot": 0.04, "rate": r}) for r in (1, 2)]
    assert flat(s["TPOT p90"]["data"]) == pytest.approx(flat([w["output_tokens_per_s"], w["tpot_s"]["p90"]] for w in want))
    assert s["TPOT p90"]["markLine"]["data"][0]["yAxis"] == pytest.approx(0.04)
    cells = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#serve-table tr:nth-child(2) td")]
    assert cells[0] == "1" and cells[1] == "yes"
    # The chart's data as CSV: one row per point.
    box = browser.find_element(By.ID, "chart-serve-tpot").find_element(By.XPATH, "..")
    box.find_element(By.XPATH, ".//button[text()='CSV']").click()
    path = os.path.join(downloads, "serve-tpot.csv")
    deadline = time.time() + 30
    while time.time() < deadline and not os.path.exists(path):
        time.sleep(0.2)
    with open(path) as f:
        rows = f.read().splitlines()
    assert rows[0] == "series,category,x,y" and len(rows) == 1 + 2 * 2
    assert float(rows[3].split(",")[3]) == pytest.approx(want[0]["tpot_s"]["p90"])


def test_fleet_page(browser, server):
    open_page(browser, server, "fleet")
    assert "name: China 2025, DeepSeek-R1" in browser.find_element(By.ID, "scenario").get_attribute("textContent")
    r = api(server, "fleet", {"example": "china-2025-deepseek"})
    assert r["feasible"]
    s = {x["name"]: x["data"] for x in series(browser, "fleet-mix")}
    assert set(s) == {c["system"] for c in r["candidates"]}
    for system, data in s.items():
        assert data == [p["units"].get(system, 0) for p in r["periods"]], system
    cost = {x["name"]: x["data"] for x in series(browser, "fleet-cost")}
    assert cost["cost"] == pytest.approx([p["cost_usd"] for p in r["periods"]])
    assert len(browser.find_elements(By.CSS_SELECTOR, "#fleet-binding tr")) == len(r["binding"]) + 1
    if r["binding"]:  # every shadow price is shown with its unit
        assert r["binding"][0]["unit"] in browser.find_element(By.CSS_SELECTOR, "#fleet-binding").text
    assert len(browser.find_elements(By.CSS_SELECTOR, "#fleet-periods tr")) == len(r["periods"]) + 1
    options = sum(len(cap["options"]) for c in r["candidates"] for cap in c["capacity"])
    assert len(browser.find_elements(By.CSS_SELECTOR, "#fleet-options tr")) == options + 1
    used = sum(len(p["deployments"]) for p in r["periods"])
    assert used > 0
    assert len(browser.find_elements(By.CSS_SELECTOR, "#fleet-deployments tr")) == used + 1
    shot(browser, "fleet")
    assert sorted(every_chart_exports(browser)) == ["fleet-cost", "fleet-mix"]
    # Another shipped scenario, with the shocks.
    Select(browser.find_element(By.CSS_SELECTOR, "#form-fleet [name=example]")).select_by_value("toy")
    browser.find_element(By.CSS_SELECTOR, "#form-fleet [name=shock]").click()
    assert act(browser, browser.find_element(By.ID, "submit-fleet").click) == "ready"
    r = api(server, "fleet", {"example": "toy", "shock": True})
    s = {x["name"]: x["data"] for x in series(browser, "fleet-mix")}
    assert s == {c["system"]: [p["units"].get(c["system"], 0) for p in r["periods"]] for c in r["candidates"]}
    assert "toy" in browser.find_element(By.ID, "scenario").get_attribute("textContent")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#fleet-shocks tr")) == len(r["shocks"]) + 1
    summary = browser.find_element(By.ID, "fleet-summary").text
    assert summary.startswith(r["scenario"])
