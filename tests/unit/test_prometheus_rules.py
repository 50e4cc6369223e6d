"""The alert rules in prometheus/rules pass `promtool check rules` and their unit tests
(`promtool test rules prometheus/tests/*.yml`); Debian's prometheus package has promtool."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RULES = sorted((REPO / "prometheus" / "rules").glob("*.yml"))
TESTS = sorted((REPO / "prometheus" / "tests").glob("*.yml"))
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None and not os.environ.get("CI"),
    reason="promtool is not installed (make host-deps: Debian package prometheus)")


def _run(*args: str) -> subprocess.CompletedProcess:
    assert PROMTOOL, "promtool is missing (tools/host-packages.txt: prometheus)"
    return subprocess.run([PROMTOOL, *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120, check=False)


@needs_promtool
def test_rules_pass_promtool_check():
    assert RULES
    done = _run("check", "rules", *map(str, RULES))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


@needs_promtool
def test_rule_unit_tests_pass():
    assert TESTS
    for test in TESTS:
        done = _run("test", "rules", str(test))
        assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
def test_a_broken_expectation_fails(tmp_path):
    """The unit tests can fail: a wrong expected label makes promtool exit non-zero."""
    original = (REPO / "prometheus" / "tests" / "ccmgr_test.yml").read_text()
    broken = tmp_path / "broken_test.yml"
    broken.write_text(original.replace("../rules/ccmgr.yml",
                                       str(REPO / "prometheus" / "rules" / "ccmgr.yml"))
                      .replace("name: east}", "name: nowhere}", 1))
    done = _run("test", "rules", str(broken))
    assert done.returncode != 0


def test_every_alert_is_documented():
    doc = (REPO / "docs" / "observability.md").read_text()
    import yaml
    for path in RULES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                assert f"`{rule['alert']}`" in doc, rule["alert"]
