"""The built-in dashboard: served when frontend_path is left at its default, never outside
its root, with the UI's security headers on every reply."""

from __future__ import annotations

from pathlib import Path

import pytest
from ccmgr.resources import static
from ccmgr.uiheaders import CSP


@pytest.fixture
def builtin(tmp_path, monkeypatch):
    """A stand-in for app/ccmgr/webui (the real one exists only after `make venv`)."""
    root = tmp_path / "webui"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<html>built-in</html>")
    (root / "assets" / "app.js").write_text("export {}")
    (tmp_path / "secret.txt").write_text("top secret")
    monkeypatch.setattr(static, "BUILTIN_UI", str(root))
    return root


def _set_frontend(harness, value: str | None) -> None:
    def mutate(doc: dict) -> None:
        if value is None:
            doc.pop("frontend_path", None)
        else:
            doc["frontend_path"] = value
    harness.services.store.update(mutate)


@pytest.mark.parametrize("setting", [None, "/app"])
def test_default_frontend_path_serves_the_built_in_ui(harness, builtin, setting):
    if Path("/app").is_dir():
        pytest.skip("this machine has an /app directory, which would win")
    _set_frontend(harness, setting)
    for path in ("/", "/clusters/abc/3", "/alarms?state=x"):
        reply = harness.client.simulate_get(path)
        assert reply.status_code == 200 and reply.text == "<html>built-in</html>", path
    assert harness.client.simulate_get("/assets/app.js").text == "export {}"
    for path in ("/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt"):
        assert "top secret" not in harness.client.simulate_get(path).text


def test_an_operators_frontend_path_wins(harness, builtin, tmp_path):
    own = tmp_path / "own"
    own.mkdir()
    (own / "index.html").write_text("<html>own</html>")
    _set_frontend(harness, str(own))
    assert harness.client.simulate_get("/").text == "<html>own</html>"
    _set_frontend(harness, str(tmp_path / "missing"))
    assert harness.client.simulate_get("/").status_code == 404  # no silent fallback


def test_unknown_api_paths_stay_json_404(harness, builtin):
    reply = harness.client.simulate_get("/proxy/nothing")
    assert reply.status_code == 404 and reply.json["type"] == "ObjectNotFound"


@pytest.mark.parametrize("path", ["/", "/health", "/proxy/auth/check"])
def test_security_headers_on_every_reply(harness, builtin, path):
    headers = harness.client.simulate_get(path).headers
    csp = headers["content-security-policy"]
    assert csp == CSP
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
