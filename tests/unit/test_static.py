import pytest


@pytest.fixture
def site(harness, tmp_path):
    root = tmp_path / "www"
    (root / "static").mkdir(parents=True)
    (root / "index.html").write_text("<html>index</html>")
    (root / "static" / "app.js").write_text("console.log(1)")
    (root / "static" / "style.css").write_text("body{}")
    (tmp_path / "secret.txt").write_text("top secret")
    (root / "link").symlink_to(tmp_path / "secret.txt")
    harness.services.store.update(lambda doc: doc.__setitem__("frontend_path", str(root)))
    return harness


def test_files_are_served_with_their_types(site):
    js = site.client.simulate_get("/static/app.js")
    assert js.status_code == 200 and js.text == "console.log(1)"
    assert js.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert site.client.simulate_get("/static/style.css").headers["content-type"].startswith(
        "text/css")
    assert "etag" in site.client.simulate_get("/static/app.js").headers


def test_unknown_paths_fall_back_to_index(site):
    for path in ("/", "/clusters/42", "/static"):
        reply = site.client.simulate_get(path)
        assert reply.status_code == 200 and reply.text == "<html>index</html>", path
        assert reply.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("path", ["/../secret.txt", "/static/../../secret.txt",
                                  "/%2e%2e/secret.txt", "/link",
                                  "/static/%2e%2e/%2e%2e/secret.txt"])
def test_no_path_escapes_the_frontend_root(site, path):
    reply = site.client.simulate_get(path)
    assert "top secret" not in reply.text


def test_ccmgr_js_has_single_controller_setting(site):
    reply = site.client.simulate_get("/ccmgr.js")
    assert reply.headers["content-type"] == "application/javascript"
    assert reply.text == 'window.CCMGR = {"SINGLE_CONTROLLER": ""};'


def test_missing_frontend_is_404(harness):
    harness.services.store.update(lambda doc: doc.__setitem__("frontend_path", "/nonexistent"))
    assert harness.client.simulate_get("/").status_code == 404
