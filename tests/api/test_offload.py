"""Fetch processes (cmon.offload): the controllers' HTTP carried out by child processes of
the worker. Calls must succeed and fail exactly as in the worker, a fetch process that dies
must fail its calls at once and be replaced, and none may outlive its worker."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from ccmgr import daemon
from ccmgr.cmon.client import CmonClient, Credentials
from ccmgr.cmon.errors import CmonError, ConnectFailed
from ccmgr.cmon.offload import Offload
from ccmgr.http import HttpPool
from ccmgr.runtime import fetch_processes
from daemonkit import free_port, write_config
from testkit import poll, running

CLUSTERS = {"operation": "getAllClusterInfo", "with_hosts": True}


@pytest.fixture
def pools() -> Iterator[tuple[HttpPool, HttpPool]]:
    """One pool that posts itself, one whose POSTs go to a fetch process."""
    local, offloaded = HttpPool(), HttpPool()
    offloaded.offload = Offload(1)
    yield local, offloaded
    offloaded.offload.close()
    local.close()
    offloaded.close()


def _outcome(http: HttpPool, url: str, creds: Credentials, ca_file: str = "") -> tuple:
    client = CmonClient(http, url, creds, ca_file=ca_file, timeout=5)
    try:
        reply = client.call("clusters", CLUSTERS)
    except CmonError as exc:
        return type(exc).__name__, exc.message
    return "ok", len(reply["clusters"]), client.sid != "", client.version


def test_calls_succeed_and_fail_the_same_in_a_fetch_process(cmon_estate, pools, tmp_path):
    estate = cmon_estate(controllers=1, clusters=3, hosts=2, seed=8)
    ctl = estate[0]
    good = Credentials(ctl.username, ctl.password)
    cases = {
        "answered": (ctl.url, good, ""),
        "wrong password": (ctl.url, Credentials(ctl.username, "wrong"), ""),
        "refused": (f"127.0.0.1:{free_port()}", good, ""),
        "certificate not trusted": (ctl.url, good, requests.certs.where()),
        "missing ca_file": (ctl.url, good, str(tmp_path / "no-such-ca.pem")),
    }
    local, offloaded = pools
    for name, (url, creds, ca_file) in cases.items():
        mine = _outcome(local, url, creds, ca_file)
        theirs = _outcome(offloaded, url, creds, ca_file)
        assert theirs == mine, name
    assert _outcome(offloaded, *cases["answered"])[:2] == ("ok", 3)
    assert _outcome(offloaded, *cases["refused"])[0] == "ConnectFailed"
    assert _outcome(offloaded, *cases["certificate not trusted"])[0] == "TLSFailed"
    # Every call of the offloaded pool was carried out by its process, none by the pool.
    assert not offloaded._sessions
    # A changed controller's connections are closed in the fetch process too; the next
    # call opens new ones.
    offloaded.forget(client_base := f"https://{ctl.url}")
    assert client_base in {f"https://{c.url}" for c in estate}
    assert _outcome(offloaded, *cases["answered"])[:2] == ("ok", 3)


def test_a_fetch_process_that_dies_fails_its_calls_at_once_and_is_replaced(cmon_estate):
    estate = cmon_estate(controllers=1, clusters=2, hosts=1, seed=9, latency=1.5)
    ctl = estate[0]
    http = HttpPool()
    http.offload = Offload(1)
    try:
        client = CmonClient(http, ctl.url, Credentials(ctl.username, ctl.password),
                            timeout=20)
        assert len(client.call("clusters", CLUSTERS)["clusters"]) == 2
        (first,) = http.offload.pids()
        # The process is killed while it waits for the controller (latency 1.5 s).
        signal_at = time.monotonic() + 0.5
        killer = _after(signal_at, lambda: os.kill(first, signal.SIGKILL))
        with pytest.raises(ConnectFailed, match="fetch process ended"):
            client.call("clusters", CLUSTERS)
        assert time.monotonic() - signal_at < 1.0  # not the 20 s timeout
        killer.join()
        assert len(client.call("clusters", CLUSTERS)["clusters"]) == 2  # a new process
        (second,) = http.offload.pids()
        assert second != first
    finally:
        http.offload.close()
        http.close()


def _after(when: float, action: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(max(0, when - time.monotonic())),
                                              action()))
    thread.start()
    return thread


def test_fetch_processes_end_with_their_worker_and_carry_no_secret_in_arguments(
        cmon_estate):
    estate = cmon_estate(controllers=4, clusters=1, hosts=1, seed=10)
    http = HttpPool()
    http.offload = Offload(2)
    try:
        for ctl in estate:
            client = CmonClient(http, ctl.url, Credentials(ctl.username, ctl.password))
            client.call("clusters", CLUSTERS)
        pids = http.offload.pids()
        # A controller always goes to the same process: one per process its URL maps to.
        assert len(pids) == len({zlib.crc32(f"https://{c.url}".encode()) % 2
                                 for c in estate})
        for pid in pids:
            arguments = Path(f"/proc/{pid}/cmdline").read_bytes()
            assert b"ccmgr.cmon.offload" in arguments
            assert not any(c.password.encode() in arguments for c in estate)
    finally:
        http.offload.close()
        http.close()
    assert not any(running(pid) for pid in pids)


def test_start_starts_every_fetch_process_before_any_call():
    offload = Offload(3)
    try:
        assert offload.pids() == []
        offload.start()
        pids = offload.pids()
        assert len(set(pids)) == 3 and all(running(pid) for pid in pids)
        offload.start()  # already running: nothing new
        assert offload.pids() == pids
    finally:
        offload.close()
    assert not any(running(pid) for pid in pids)


def test_a_fetch_process_ends_when_its_worker_is_killed(cmon_estate, tmp_path):
    """The socket closes with the worker whatever kills it: the child reads the end."""
    estate = cmon_estate(controllers=1, clusters=1, hosts=1, seed=12)
    ctl = estate[0]
    script = tmp_path / "worker.py"
    script.write_text(
        "import sys, time\n"
        "from ccmgr.cmon.client import CmonClient, Credentials\n"
        "from ccmgr.cmon.offload import Offload\n"
        "from ccmgr.http import HttpPool\n"
        "http = HttpPool(); http.offload = Offload(1)\n"
        f"CmonClient(http, {ctl.url!r}, Credentials({ctl.username!r}, {ctl.password!r}))"
        ".call('clusters', {'operation': 'getAllClusterInfo'})\n"
        "print(http.offload.pids()[0], flush=True)\n"
        "time.sleep(60)\n")
    worker = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                              text=True)
    try:
        child = int(worker.stdout.readline())
        worker.kill()
        worker.wait(10)
        assert poll(lambda: not running(child), timeout=10)
    finally:
        worker.kill()
        worker.wait(10)


@pytest.mark.parametrize("value, expected", [("", 0), ("0", 0), ("2", 2), (" 4 ", 4)])
def test_the_number_of_fetch_processes_comes_from_the_environment(value, expected):
    assert fetch_processes({"CCMGR_FETCH_PROCESSES": value}) == expected


@pytest.mark.parametrize("value", ["two", "-1", "17", "1.5"])
def test_a_bad_number_of_fetch_processes_stops_the_daemon_with_the_reason(
        value, basedir, monkeypatch, capsys):
    write_config(basedir, {"instances": []})
    monkeypatch.setenv("CCMGR_FETCH_PROCESSES", value)
    assert daemon.main(["--basedir", str(basedir), "--check"]) == 1
    err = capsys.readouterr().err
    assert f"ccmgr: error: CCMGR_FETCH_PROCESSES={value!r}" in err
    assert "from 0 to 16" in err
    assert "Traceback" not in err


def test_frames_larger_than_the_socket_buffer_arrive_whole_and_a_cut_stream_ends():
    """A reply body bigger than the socketpair's buffer (partial writes) arrives byte for
    byte beside its head; a stream that ends inside a frame reads as its end, not as a
    short body."""
    from ccmgr.cmon.offload import _receive, _send

    lock = threading.Lock()
    ours, theirs = socket.socketpair()
    body = os.urandom(3 * 1024 * 1024)
    sender = threading.Thread(target=lambda: (_send(ours, lock, [7, True, 200], body),
                                              _send(ours, lock, ["head only"])))
    sender.start()
    try:
        assert _receive(theirs) == ([7, True, 200], body)
        assert _receive(theirs) == (["head only"], b"")
    finally:
        sender.join(timeout=10)
        ours.close()
    assert _receive(theirs) is None  # the end between frames
    theirs.close()

    framer, framed = socket.socketpair()
    _send(framer, lock, [1], b"x" * 1000)
    whole = framed.recv(2000)
    framer.close()
    framed.close()
    for cut in (4, len(whole) - 1000, len(whole) - 1):  # in the header, the head, the body
        writer, reader = socket.socketpair()
        writer.sendall(whole[:cut])
        writer.close()
        assert _receive(reader) is None
        reader.close()
