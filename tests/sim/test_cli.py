"""The `cmonsim` command: prints what to register with ccmgradm, stops cleanly on signals."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

import pytest
from cmonsim.cli import main

from .conftest import Client

ADD_LINE = re.compile(r"ccmgradm addcontroller -u (\S+) -p (\S+) -n (\S+) (\S+)$")


class _Ctl:
    """Enough of SimController for conftest.Client."""

    def __init__(self, url: str, user: str, password: str) -> None:
        self.url = url
        self.host, port = url.split("/")[0].split(":")
        self.port = int(port)
        self.https_url = f"https://{url}"
        self.username, self.password = user, password

    def rpc_url(self, module: str) -> str:
        return f"{self.https_url}/v2/{module}"


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cmonsim", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _read_until_admin(proc: subprocess.Popen, timeout: float = 30) -> list[str]:
    lines = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("admin endpoint:"):
            return lines
    raise AssertionError(f"no banner; got {lines!r}, stderr {proc.stderr.read()!r}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_prints_registration_lines_and_stops_on_signal(sig):
    proc = _start("--controllers", "2", "--clusters", "3", "--hosts", "2", "--seed", "1",
                  "--bind", "127.0.0.1", "--base-port", "0", "--ldap", "1")
    try:
        lines = _read_until_admin(proc)
        adds = [ADD_LINE.search(line) for line in lines]
        adds = [m for m in adds if m]
        assert [m.group(3) for m in adds] == ["cmon-01", "cmon-02"]
        assert any("addcontroller -l -n cmon-02" in line for line in lines)
        for user, password, _name, url in (m.groups() for m in adds):
            assert not url.startswith("https://")
            reply = Client(_Ctl(url, user, password)).login().json()
            assert reply["request_status"] == "Ok"
        proc.send_signal(sig)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        proc.stdout.close()
        proc.stderr.close()


def test_cli_rejects_bad_arguments(capsys):
    assert main(["--faults", '{"0": {"mode": "explode"}}', "--base-port", "0"]) == 2
    assert "mode must be one of" in capsys.readouterr().err
    assert main(["--controllers", "2", "--clusters", "1,2,3", "--base-port", "0"]) == 2


def test_estate_can_run_in_a_subprocess(cmon_estate, client_for):
    estate = cmon_estate(controllers=2, clusters=2, hosts=1, seed=3, subprocess=True,
                         faults={1: {"mode": "empty_json"}})
    assert client_for(estate[0]).call("clusters", "getAllClusterInfo")["total"] == 2
    assert Client(estate[1]).login().json() == {}
    assert estate[0].count("clusters", "getAllClusterInfo") == 1
