"""Daemon workers and ccmgradm writing one ccmgr.yaml at once: nothing lost, never torn.

The API writers add controllers through /proxy/controllers/add (each a distinct,
unreachable loopback URL: add succeeds even when the controller is down, and a refused
connection answers the add's login test at once).
"""

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml
from daemonkit import start_daemon, stop_daemon

API_CONTROLLERS = 500    # each is one /proxy/controllers/add
CLI_CONTROLLERS = 500    # each is one `ccmgradm addcontroller`
PROCESSES_PER_KIND = 2

CLI_WRITER = textwrap.dedent("""
    import io, sys
    from ccmgr.cli import main
    basedir, start, stop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    for i in range(start, stop):
        sys.stdin = io.StringIO("rpc-pw\\n")
        code = main(["--basedir", basedir, "addcontroller", "-u", "rpc", "--password-stdin",
                     "-n", f"c{i}", f"cmon{i}.lab:9501"])
        if code != 0:
            sys.exit(f"addcontroller {i} failed with {code}")
""")

API_WRITER = textwrap.dedent("""
    import json, sys
    import requests
    url, ca, password, start, stop = (sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]),
                                      int(sys.argv[5]))
    s = requests.Session()
    s.trust_env = False
    s.verify = ca
    r = s.post(url + "/proxy/auth/login", timeout=30,
               data=json.dumps({"username": "admin", "password": password}))
    assert r.status_code == 200, r.text
    for i in range(start, stop):
        r = s.post(url + "/proxy/controllers/add", timeout=30, data=json.dumps(
            {"controller": {"url": f"127.0.0.1:9/api{i}", "name": f"api{i}",
                            "username": "rpc", "password": "rpc-pw"}}))
        assert r.status_code == 200, r.text
""")

READER = textwrap.dedent("""
    import os, sys, time, yaml
    path, seconds, stop_file = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    reads = bad = 0
    last = -1
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not os.path.exists(stop_file):
        with open(path) as f:
            text = f.read()
        try:
            doc = yaml.load(text, Loader=yaml.CSafeLoader)
            generation = doc.get("generation", 0)
            assert generation >= last, (generation, last)
            last = generation
        except Exception as exc:
            bad += 1
            print("BAD", repr(exc), file=sys.stderr)
        reads += 1
        time.sleep(0.002)  # look often, but leave the writers a core
    print(reads, bad)
""")


def _split(total: int, parts: int) -> list[tuple[int, int]]:
    step = total // parts
    return [(i * step, total if i == parts - 1 else (i + 1) * step) for i in range(parts)]


@pytest.mark.slow
def test_1000_mixed_writes_from_4_processes_are_all_kept(basedir):
    daemon = start_daemon(basedir)
    password = daemon.admin_password()
    try:
        config_path = str(basedir / "ccmgr.yaml")
        generation_before = yaml.safe_load(Path(config_path).read_text()).get("generation", 0)
        stop_file = basedir.parent / "stop-reader"
        reader = subprocess.Popen([sys.executable, "-c", READER, config_path, "300",
                                   str(stop_file)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        writers = [subprocess.Popen([sys.executable, "-c", CLI_WRITER, str(basedir),
                                     str(a), str(b)], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True)
                   for a, b in _split(CLI_CONTROLLERS, PROCESSES_PER_KIND)]
        writers += [subprocess.Popen([sys.executable, "-c", API_WRITER, daemon.url, daemon.ca,
                                      password, str(a), str(b)], stderr=subprocess.PIPE,
                                     text=True)
                    for a, b in _split(API_CONTROLLERS, PROCESSES_PER_KIND)]
        started = time.monotonic()
        for writer in writers:
            _, err = writer.communicate(timeout=300)
            assert writer.returncode == 0, err[-2000:]
        elapsed = time.monotonic() - started
        stop_file.touch()
        out, err = reader.communicate(timeout=330)
        reads, bad = map(int, out.split())
        assert bad == 0, err[-2000:]
        assert reads > 100  # the reader really looked while the writers wrote

        doc = yaml.safe_load(Path(config_path).read_text())
        urls = [i["url"] for i in doc["instances"]]
        assert len(urls) == len(set(urls)) == API_CONTROLLERS + CLI_CONTROLLERS
        assert set(urls) == {f"cmon{i}.lab:9501" for i in range(CLI_CONTROLLERS)} | {
            f"127.0.0.1:9/api{i}" for i in range(API_CONTROLLERS)}
        assert len({i["xid"] for i in doc["instances"]}) == len(urls)
        assert doc["generation"] - generation_before == API_CONTROLLERS + CLI_CONTROLLERS
        print(f"\n1000 writes from 4 processes in {elapsed:.1f}s; reader parsed the file "
              f"{reads} times, 0 torn")
        health = json.loads(daemon.session().get(f"{daemon.url}/health").text)
        assert health["generation"] == doc["generation"]
    finally:
        stop_daemon(daemon)
