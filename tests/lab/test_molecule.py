"""`molecule test` of ansible/molecule/default end to end: create (labctl up), converge
site.yml, idempotence, verify (testinfra over SSH), destroy (labctl down)."""

from __future__ import annotations

import re
import subprocess

import pytest
from labkit import REPO, VENV_BIN, ensure_deb, lab_leftovers, venv_env

# Runs last: its destroy step takes the lab down.
pytestmark = [pytest.mark.lab, pytest.mark.slow, pytest.mark.lab_teardown(order=2)]


def test_molecule_test_passes_end_to_end(lab):
    ensure_deb()  # converge deploys dist/ccmgr_*.deb
    env = venv_env(NO_COLOR="1", PY_COLORS="0")
    for own in ("ANSIBLE_CONFIG", "LAB_KEEP", "LAB_SITE_CONVERGED"):  # molecule sets its own
        env.pop(own, None)
    proc = subprocess.run([str(VENV_BIN / "molecule"), "test"], cwd=REPO / "ansible",
                          capture_output=True, text=True, timeout=3600, env=env)
    out = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)
    print(out[-30000:])
    assert proc.returncode == 0, "molecule test failed (output above)"
    assert re.search(r"idempotence: Executed: Successful", out)
    assert lab_leftovers(lab.paths) == []
