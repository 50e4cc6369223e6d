"""packaging/: the wheel builds (make wheel's script) and the shell scripts are sound.

The .deb itself is built and checked in tests/lab/test_deb_package.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGING = REPO / "packaging"
SHELL_SCRIPTS = [*sorted(PACKAGING.glob("*.sh"))]
MAINTAINER_SCRIPTS = [PACKAGING / "debian" / name for name in ("postinst", "prerm", "postrm")]


def _version() -> str:
    text = (REPO / "app/ccmgr/__init__.py").read_text()
    return re.search(r'^__version__ = "(.+)"$', text, re.M).group(1)


@pytest.mark.parametrize("script", MAINTAINER_SCRIPTS, ids=lambda p: p.name)
def test_maintainer_scripts_are_posix_sh_and_executable(script):
    assert script.read_text().startswith("#!/bin/sh\n")
    assert os.access(script, os.X_OK)
    subprocess.run(["sh", "-n", str(script)], check=True)


@pytest.mark.parametrize("script", SHELL_SCRIPTS, ids=lambda p: p.name)
def test_build_scripts_parse(script):
    subprocess.run(["bash", "-n", str(script)], check=True)


def test_shell_is_shellcheck_clean():
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed")
    proc = subprocess.run(["shellcheck", "-x", *map(str, SHELL_SCRIPTS + MAINTAINER_SCRIPTS)],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stdout


def test_default_config_is_valid_and_not_host_specific():
    import yaml
    from ccmgr.config.schema import parse_config

    doc = yaml.safe_load((PACKAGING / "ccmgr.yaml").read_text())
    config = parse_config("/var/lib/ccmgr/ccmgr.yaml", doc)
    assert config.logfile == "/var/log/ccmgr/ccmgr.log"
    assert config.port == 19051
    assert config.tls_cert == "/var/lib/ccmgr/server.crt"
    assert not {"node_name", "bind_address", "peers", "role"} & set(doc)
    assert config.users == [] and config.instances == []


@pytest.mark.slow
def test_build_wheel_makes_a_wheel_and_sdist_of_ccmgr(tmp_path):
    if not Path("/usr/bin/python3").exists():
        pytest.skip("Debian's /usr/bin/python3 is not installed")
    env = {**os.environ, "OUTDIR": str(tmp_path / "dist"), "BUILD_ROOT": str(REPO / "build")}
    proc = subprocess.run(["bash", str(PACKAGING / "build-wheel.sh")], capture_output=True,
                          text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    version = _version()
    wheel = tmp_path / "dist" / f"ccmgr-{version}-py3-none-any.whl"
    assert proc.stdout.strip() == str(wheel)
    assert (tmp_path / "dist" / f"ccmgr-{version}.tar.gz").exists()
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        entry_points = zf.read(f"ccmgr-{version}.dist-info/entry_points.txt").decode()
    assert "ccmgr/daemon.py" in names and "ccmgr/gunicorn_conf.py" in names
    assert "ccmgr/webui/index.html" in names  # the built dashboard ships in the wheel
    assert any(n.startswith("ccmgr/webui/assets/") and n.endswith(".js") for n in names)
    assert "ccmgr = ccmgr.daemon:main" in entry_points
    assert "ccmgradm = ccmgr.cli:main" in entry_points
    assert not [n for n in names if n.startswith(("cmonsim", "sim/"))]  # the simulator stays out
