"""A ccmgr.yaml cut short, emptied or put back at an older generation is refused like a
syntax error; history/ restores the last good generation; hand-written files load as
before (issue 18, defect 8)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from ccmgr import users
from ccmgr.cli import main
from ccmgr.config import ConfigStore
from ccmgr.errors import ConfigError


@pytest.fixture
def store(basedir) -> ConfigStore:
    return ConfigStore(str(basedir / "ccmgr.yaml"))


@pytest.fixture
def cli(basedir, monkeypatch):
    monkeypatch.setenv("CCMGR_BASEDIR", str(basedir))

    def run(*argv):
        monkeypatch.setattr("sys.stdin", io.StringIO(""))
        return main(list(argv))
    return run


def populate(store: ConfigStore) -> None:
    store.update(lambda doc: doc.update(port=19999, bind_address="127.0.0.1"))
    for i in range(30):
        store.update(lambda doc, i=i: users.add_user(doc, f"user{i}", "pw"))


def cut(path: Path, keep: float) -> str:
    """Cut the file at a line boundary after ``keep`` of its lines; it still parses."""
    lines = path.read_text().splitlines(keepends=True)
    text = "".join(lines[:int(len(lines) * keep)])
    yaml.safe_load(text)  # the cut is valid YAML: only the end line tells
    path.write_text(text)
    return text


def test_file_cut_short_is_refused_and_the_last_good_config_kept(store):
    populate(store)
    good = store.current()
    text = cut(Path(store.path), 0.4)
    assert store.current() is good  # the reader keeps serving the last good config
    assert "cut short" in str(store.last_error)
    with pytest.raises(ConfigError, match="cut short"):
        store.update(lambda doc: doc.__setitem__("timeout", 5))
    assert Path(store.path).read_text() == text  # never written on top of


def test_empty_file_is_refused(store):
    populate(store)
    Path(store.path).write_text("")
    with pytest.raises(ConfigError, match="empty"):
        ConfigStore(store.path).current()


def test_generation_going_backwards_is_refused(store):
    populate(store)
    doc = yaml.safe_load(Path(store.path).read_text())
    doc["generation"] = 3  # a stale copy put back by hand, without ccmgr's lines
    Path(store.path).write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError, match="older than generation 31"):
        ConfigStore(store.path).current()


def test_hand_written_file_without_marker_loads_as_before(store):
    Path(store.path).write_text("port: 19052\nusers: []\n")
    assert store.current().port == 19052


def test_hand_edit_of_a_ccmgr_file_keeping_its_end_is_accepted(store):
    populate(store)
    path = Path(store.path)
    path.write_text(path.read_text().replace("port: 19999", "port: 19998"))
    assert ConfigStore(store.path).current().port == 19998


def test_cli_refuses_a_cut_file_and_rollback_restores_the_last_good(store, cli, capsys):
    populate(store)
    cut(Path(store.path), 0.3)
    capsys.readouterr()
    assert cli("listcontrollers") == 1
    assert "cut short" in capsys.readouterr().err
    assert cli("config", "history") == 0
    assert "current: refused" in capsys.readouterr().out
    assert cli("config", "rollback") == 0
    restored = ConfigStore(store.path).current()
    assert restored.port == 19999 and restored.doc["bind_address"] == "127.0.0.1"
    assert len(restored.users) == 30 and restored.generation == 32


def test_health_warns_while_the_file_is_cut(harness):
    populate(harness.services.store)
    harness.services.store.current()
    cut(Path(harness.services.store.path), 0.5)
    body = harness.client.simulate_get("/health").json
    assert body["status"] == "ok" and body["warnings"]
