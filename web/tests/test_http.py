"""`suanli web` over real sockets: the JSON API is the CLI's --json, errors
are 400 with the library's message, and the server's limits hold (Host,
Content-Type, body size, no CORS, 127.0.0.1 by default, flags checked)."""
import http.client
import json
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from server import BIN, Server  # noqa: E402

pytestmark = pytest.mark.skipif(not BIN, reason="SUANLI_BIN not set")

INFER = {"hardware": "h20", "model": "llama-3.1-70b", "input_tokens": 2048, "output_tokens": 512, "tp": 8,
         "batch": 16}


@pytest.fixture(scope="module")
def server():
    s = Server("--workers", "2", "--max-body", "4096")
    yield s
    s.stop()


def request(server, method, path, body=None, headers=None, host=None):
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    h = {"Content-Type": "application/json"} if body is not None else {}
    h.update(headers or {})
    if host is not None:
        h["Host"] = host
    c.request(method, path, body=body if body is None or isinstance(body, (bytes, str)) else json.dumps(body),
              headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r, data


def cli(command, fields):
    args = [BIN, command]
    for k, v in fields.items():
        args += ["--" + k.replace("_", "-"), str(v)]
    return json.loads(subprocess.run(args + ["--json"], capture_output=True, text=True, check=True).stdout)


def test_binds_loopback_by_default(server):
    assert server.host.startswith("127.0.0.1:")


def test_infer_is_the_cli_json(server):
    r, data = request(server, "POST", "/api/infer", INFER)
    assert r.status == 200
    assert json.loads(data) == cli("infer", INFER)
    assert r.getheader("Access-Control-Allow-Origin") is None  # no CORS
    assert "default-src 'self'" in r.getheader("Content-Security-Policy")


def test_classify_and_csv(server):
    r, data = request(server, "POST", "/api/classify", {"hardware": "h20"})
    assert r.status == 200 and json.loads(data) == cli("classify", {"hardware": "h20"})
    r, data = request(server, "POST", "/api/infer?form=csv", INFER)
    assert r.status == 200 and r.getheader("Content-Type").startswith("text/csv")
    assert data.decode().splitlines()[0].startswith("hardware") or "," in data.decode().splitlines()[0]


def test_bad_input_is_400_with_the_message(server):
    r, data = request(server, "POST", "/api/infer", {**INFER, "tp": 0})
    assert r.status == 400
    body = json.loads(data)
    assert body["key"] == "tp" and body["error"] == "tp: must be at least 1, found '0'"
    r, data = request(server, "POST", "/api/infer", "{not json")
    assert r.status == 400 and "error" in json.loads(data)


def test_limits(server):
    r, _ = request(server, "POST", "/api/infer", "x" * 5000)
    assert r.status == 413
    r, data = request(server, "POST", "/api/infer", json.dumps(INFER), headers={"Content-Type": "text/plain"})
    assert r.status == 415
    r, data = request(server, "POST", "/api/infer", INFER, host="evil.example:80")
    assert r.status == 403 and "Host" in json.loads(data)["error"]
    r, _ = request(server, "GET", "/api/commands", host=f"localhost:{server.port}")
    assert r.status == 200


def test_catalog_routes(server):
    r, data = request(server, "GET", "/api/record/h20")
    assert r.status == 200 and json.loads(data)["id"] == "h20"
    assert json.loads(data)["file"] == "chips/nvidia/h20.yaml"  # relative to the catalog: no server path
    r, data = request(server, "GET", "/api/catalog/chips")
    assert r.status == 200 and b'"file": "/' not in data
    r, data = request(server, "GET", "/api/record/%2Fetc%2Fpasswd")
    assert r.status == 400
    r, data = request(server, "GET", "/api/commands")
    names = [c["name"] for c in json.loads(data)["commands"]]
    assert "infer" in names and "validate" not in names


def test_bad_flags_exit_2():
    for flags in (["--port", "70000"], ["--workers", "0"], ["--port", "x"], ["--assets", "/nonexistent"]):
        out = subprocess.run([BIN, "web", *flags], capture_output=True, text=True, timeout=30)
        assert out.returncode == 2, (flags, out)
        assert out.stderr.startswith("error: " + flags[0]), out.stderr


def test_a_port_in_use_exits_2(server):
    out = subprocess.run([BIN, "web", "--port", str(server.port)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and "cannot listen" in out.stderr


def test_listen_elsewhere_warns():
    s = Server("--listen", "0.0.0.0")
    try:
        assert any("warning: --listen 0.0.0.0" in line for line in s.log)
        r, _ = request(s, "GET", "/api/commands", host="anything.example")
        assert r.status == 200  # not bound to the loopback: any Host
    finally:
        s.stop()


def test_the_app_is_served_from_memory(server):
    r, data = request(server, "GET", "/")
    if r.status == 404:
        assert b"scripts/build-web" in data  # assets not built: says how
        return
    assert r.status == 200 and r.getheader("Content-Type").startswith("text/html")
    assert b'<script src="app.js"></script>' in data
    r, data = request(server, "GET", "/app.js")
    assert r.status == 200 and r.getheader("Content-Type").startswith("text/javascript") and len(data) > 100000
    r, _ = request(server, "GET", "/../CMakeLists.txt")
    assert r.status in (400, 404)


def test_fleet_runs_a_shipped_example_by_id(server):
    """The CLI's JSON of the same scenario file, named by its id; no path is taken."""
    r, data = request(server, "POST", "/api/fleet", {"example": "toy"})
    assert r.status == 200, data
    got = json.loads(data)
    root = os.path.join(os.path.dirname(__file__), "..", "..")
    want = json.loads(subprocess.run([BIN, "fleet", os.path.join(root, "examples/fleet/toy.yaml"), "--json"],
                                     capture_output=True, text=True, check=True).stdout)
    # Where the server read it is not said: the example's id in place of the CLI's "file".
    assert "file" not in got and got.pop("example") == "toy"
    assert want.pop("file").endswith("examples/fleet/toy.yaml")
    assert got == want
    assert os.path.abspath(root).encode() not in data
    r, data = request(server, "GET", "/api/examples/fleet")
    assert r.status == 200 and "toy" in [e["id"] for e in json.loads(data)["examples"]]
    for body in ({"scenario_file": "examples/fleet/toy.yaml"}, {"example": "../examples/fleet/toy"}):
        r, data = request(server, "POST", "/api/fleet", body)
        assert r.status == 400, data
        assert "error" in json.loads(data)
