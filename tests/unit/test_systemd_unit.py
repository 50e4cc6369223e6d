"""systemd/ccmgr.service, checked on the build machine (no lab): it parses, it has the
settings ccmgr relies on, and its `systemd-analyze security` exposure stays low."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "systemd" / "ccmgr.service"
MAX_EXPOSURE = 2.0


def _service_settings() -> dict[str, list[str]]:
    """[Service] as key -> every value given (systemd allows repeated keys)."""
    settings: dict[str, list[str]] = {}
    section = None
    for raw in UNIT.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        if section == "Service":
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


@pytest.fixture(scope="module")
def security() -> subprocess.CompletedProcess:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    proc = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager",
                           str(UNIT)], capture_output=True, text=True, timeout=60)
    if "--offline" in proc.stderr and "unrecognized" in proc.stderr:
        pytest.skip("this systemd-analyze has no --offline (systemd < 250)")
    return proc


def test_unit_parses_without_unknown_settings(security):
    problems = [line for line in security.stderr.splitlines()
                if re.search(r"Unknown (key|section)|Invalid|Failed to parse|ignoring", line)]
    assert problems == [], security.stderr
    assert "Overall exposure level for ccmgr.service" in security.stdout


def test_unit_exposure_is_at_most_2(security, capsys):
    match = re.search(r"Overall exposure level for ccmgr\.service: ([0-9.]+)", security.stdout)
    assert match, security.stdout[-2000:]
    exposure = float(match.group(1))
    with capsys.disabled():
        print(f"\nsystemd-analyze security --offline=yes systemd/ccmgr.service: "
              f"exposure {exposure}")
    assert exposure <= MAX_EXPOSURE


def test_unit_runs_gunicorn_as_ccmgr_with_notify_and_graceful_reload():
    s = _service_settings()
    assert s["Type"] == ["notify"]
    assert s["NotifyAccess"] == ["main"]  # the arbiter is MAINPID after ccmgr's exec
    assert s["User"] == ["ccmgr"] and s["Group"] == ["ccmgr"]
    assert s["ExecStart"] == ["/usr/bin/ccmgr --basedir /var/lib/ccmgr"]
    assert s["ExecReload"] == ["/bin/kill -s HUP $MAINPID"]
    # Workers get SIGTERM when the arbiter dies (kill -9): in-flight replies finish.
    assert s["KillMode"] == ["control-group"]
    assert s["Restart"] == ["on-failure"]
    assert s["UMask"] == ["0077"]


def test_unit_hardening_keeps_what_the_service_needs():
    s = _service_settings()
    assert s["CapabilityBoundingSet"] == [""]  # port 19051: no capabilities at all
    assert s["AmbientCapabilities"] == [""]
    assert s["ProtectSystem"] == ["strict"]
    assert s["StateDirectory"] == ["ccmgr"] and s["LogsDirectory"] == ["ccmgr"]
    families = s["RestrictAddressFamilies"][0].split()
    assert sorted(families) == ["AF_INET", "AF_INET6", "AF_UNIX"]  # AF_UNIX: sd_notify
    assert "@system-service" in s["SystemCallFilter"]
    for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices",
                "ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs",
                "ProtectControlGroups", "ProtectClock", "ProtectHostname",
                "RestrictNamespaces", "LockPersonality", "MemoryDenyWriteExecute",
                "RestrictRealtime", "RestrictSUIDSGID"):
        assert s[key] == ["yes"], key
    assert s["ProtectProc"] == ["invisible"] and s["ProcSubset"] == ["pid"]
    assert s["SystemCallArchitectures"] == ["native"]
    assert "IPAddressDeny" not in s  # controllers can be anywhere


def test_unit_install_section_targets_multi_user():
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read_string(re.sub(r"(?m)^(SystemCallFilter|ReadWritePaths)=.*$", "", UNIT.read_text()))
    assert parser["Install"]["WantedBy"] == "multi-user.target"
