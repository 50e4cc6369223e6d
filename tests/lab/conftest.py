"""Fixtures for tests on the multi-host lab (docs/lab.md).

Every test here is marked ``@pytest.mark.lab``. It needs root and systemd-nspawn: without
them the test is skipped with the reason, except on CI (env CI=true) where it fails.

Use the session-scoped ``lab`` fixture; it brings the lab up once (``labctl.py up`` is
idempotent) and tears it down at the end of the session, also when tests fail::

    import pytest

    pytestmark = pytest.mark.lab

    def test_haproxy_answers_from_ccm1(lab):
        lab.playbook("ansible/site.yml")                  # converge (idempotent)
        out = lab.ssh("ccm1", f"curl -sk https://{lab.vip}/health").stdout
        assert "ok" in out

    def test_ccm_hosts_run_ccmgr(lab):
        for name in lab.groups["ccm"]:
            assert lab.host(name).service("ccmgr").is_running   # a testinfra Host

Environment: LAB_DIR / LAB_CACHE / LAB_SECONDARIES as for labctl.py; LAB_KEEP=1 leaves
the lab running after the session (for debugging, and for molecule's verify step).
Tests marked ``lab_teardown(order=N)`` (declared below) run after all other tests of the
session, lowest N first, because they take the lab down (the next ``lab`` user brings it up
again only if it comes later in the same session: keep such tests last).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from labkit import Lab, ensure_deb, lab_unavailable, on_ci


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "lab_teardown(order=1): takes the lab down; runs after all other tests, lowest order first",
    )
    config.addinivalue_line(
        "markers",
        "lab_before_site: needs plain hosts (e.g. installs and purges the .deb); runs before "
        "any test that deploys site.yml",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        if item.get_closest_marker("lab_before_site") is not None:
            return -1
        mark = item.get_closest_marker("lab_teardown")
        return 0 if mark is None else mark.kwargs.get("order", 1)

    items.sort(key=rank)  # stable: collection order within each rank


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("lab") is None:
        return
    reason = lab_unavailable()
    if reason and on_ci():
        pytest.fail(f"lab test cannot run on CI: {reason}", pytrace=False)
    if reason:
        pytest.skip(f"lab: {reason}")


@pytest.fixture(scope="session")
def lab(request: pytest.FixtureRequest) -> Iterator[Lab]:
    """The running lab (up once per session; down at the end unless LAB_KEEP=1)."""
    handle = Lab.from_env()
    if os.environ.get("LAB_KEEP") != "1":
        request.addfinalizer(handle.down)  # registered first: runs even if up fails
    handle.up()
    yield handle


@pytest.fixture(scope="session")
def site(lab: Lab) -> Lab:
    """The lab converged with ansible/site.yml once per session.

    Skips the run when LAB_SITE_CONVERGED=1 (molecule's verify, after its converge).
    """
    if os.environ.get("LAB_SITE_CONVERGED") != "1":
        ensure_deb()
        lab.playbook("ansible/site.yml")
    return lab
