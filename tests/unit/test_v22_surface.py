"""The rest of the v2.2 surface (issue 13 item 4 and 7): /proxy/config, the gate's 401,
gzip, the CORS allow-list with preflight, HSTS, and init -f writing config.js."""

from __future__ import annotations

import gzip
import json
import os

import pytest
import yaml
from ccmgr.cli import main
from ccmgr.config.store import read_config
from ccmgr.errors import ConfigError

ORIGIN = "https://ui.example.com"


def test_proxy_config_is_authenticated(harness):
    anon = harness.post("/proxy/config", "{}")
    assert anon.status_code == 401
    assert anon.json == {"request_created": "", "request_processed": "",
                         "request_status": "AuthRequired",
                         "error_string": "authentication is required"}
    reply = harness.client.simulate_get("/proxy/config", cookies={"sid": harness.login()})
    assert reply.status_code == 200
    assert reply.json == {"config": {"fetch_backups_days": 7, "fetch_jobs_hours": 12}}


def test_replies_are_gzipped_when_accepted(harness):
    plain = harness.client.simulate_get("/openapi.json")
    assert "Content-Encoding" not in plain.headers
    packed = harness.client.simulate_get("/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert json.loads(gzip.decompress(packed.content)) == plain.json
    assert len(packed.content) < len(plain.content) / 3
    refused = harness.client.simulate_get("/openapi.json",
                                          headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers
    small = harness.client.simulate_get("/health", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in small.headers  # not worth it below 1 KiB


def test_hsts_as_v22_sends_it(harness):
    reply = harness.client.simulate_get("/health")
    assert reply.headers["Strict-Transport-Security"] == \
        "max-age=31536000; includeSubDomains; preload"


def _allow(harness, origins):
    def mutate(doc):
        doc["cors_origins"] = origins
    harness.services.store.update(mutate)


def test_no_cors_headers_by_default(harness):
    reply = harness.client.simulate_get("/health", headers={"Origin": ORIGIN})
    assert "Access-Control-Allow-Origin" not in reply.headers


def test_cors_allow_list_and_preflight(harness):
    _allow(harness, [ORIGIN])
    sid = harness.login()
    reply = harness.client.simulate_post("/proxy/clusters/status", body="{}",
                                         cookies={"sid": sid}, headers={"Origin": ORIGIN})
    assert reply.status_code == 200
    assert reply.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert reply.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Origin" in reply.headers["Vary"]
    pre = harness.client.simulate_options("/proxy/clusters/status", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 200 and pre.content == b""
    assert "POST" in pre.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in pre.headers["Access-Control-Allow-Headers"]
    other = harness.client.simulate_options("/proxy/clusters/status", headers={
        "Origin": "https://evil.example.net", "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in other.headers
    assert "Access-Control-Allow-Methods" not in other.headers


@pytest.mark.parametrize("bad", [["ui.example.com"], ["https://ui.example.com/path"], "x"])
def test_a_bad_origin_is_refused_with_its_key(basedir, bad):
    path = basedir / "ccmgr.yaml"
    path.write_text(yaml.safe_dump({"cors_origins": bad}))
    with pytest.raises(ConfigError, match="cors_origins"):
        read_config(str(path))


@pytest.fixture
def cli(basedir, monkeypatch):
    monkeypatch.setenv("CCMGR_BASEDIR", str(basedir))
    return lambda *argv: main(list(argv))


def test_init_f_edits_config_js_in_place_keeping_its_mode(cli, tmp_path, capsys):
    ui = tmp_path / "ui"
    ui.mkdir()
    js = ui / "config.js"
    js.write_text("window.FEAS_ENV = { API_URL: '/proxy', CMON_API_URL: '/api/v2', "
                  "X: '/api/v2' };\n")
    js.chmod(0o640)
    assert cli("init", "-f", str(ui)) == 0
    out = capsys.readouterr().out
    assert f"Changing frontend_path from /app to {ui}" in out
    assert f"File {js} updated successfully" in out
    assert js.read_text() == ("window.FEAS_ENV = { API_URL: '/proxy', CMON_API_URL: '/', "
                              "X: '/api/v2' };\n")
    assert os.stat(js).st_mode & 0o777 == 0o640


def test_init_f_writes_a_missing_config_js_and_reports_errors(cli, tmp_path, capsys):
    ui = tmp_path / "ui"
    ui.mkdir()
    assert cli("init", "-f", str(ui)) == 0
    assert "CMON_API_URL: '/'" in (ui / "config.js").read_text()
    assert "API_URL: '/proxy'" in (ui / "config.js").read_text()
    capsys.readouterr()
    assert cli("init", "-f", str(tmp_path / "missing")) == 0  # not fatal, as in cmon-proxy
    assert "Error updating" in capsys.readouterr().out
