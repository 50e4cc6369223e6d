"""What the daemon benches share: the estate options, and a real daemon over a cmonsim
estate with an admin session (bench/aggregate.py, bench/ui.py, bench/fuzz_api.py)."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from cmonsim.testing import SimEstate, start_estate
from daemonkit import Daemon, start_daemon, stop_daemon, write_config


def estate_options(parser: argparse.ArgumentParser) -> None:
    """The estate's shape: controllers x clusters x hosts, and the controllers' latency."""
    parser.add_argument("--controllers", type=int, default=50)
    parser.add_argument("--clusters", type=int, default=40)
    parser.add_argument("--hosts", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.2)


@dataclass
class Bench:
    estate: SimEstate
    daemon: Daemon
    session: requests.Session  # logged in as admin
    scratch: Path  # a temporary directory for the bench's own files
    login_timeout: float = 30
    started: float = 0.0  # time.perf_counter() when the daemon's process was started
    sim_cpu_at_start: float = 0.0  # the simulator's CPU seconds then

    def sim_cpu(self) -> float:
        """CPU seconds the simulator (its own process) has used since it started."""
        return cpu_seconds(self.estate.pid) if self.estate.pid else 0.0

    def restart(self) -> None:
        """Stop the daemon in order (SIGTERM, as systemd does) and start it again on the
        same basedir, logged in again: what a restart after an upgrade looks like."""
        stop_daemon(self.daemon)
        self.sim_cpu_at_start = self.sim_cpu()
        self.started = time.perf_counter()
        self.daemon = start_daemon(self.scratch / "basedir")
        self.session = _logged_in(self.daemon, self.login_timeout)


def _logged_in(daemon: Daemon, timeout: float) -> requests.Session:
    s = daemon.session()
    s.post(f"{daemon.url}/proxy/auth/login", timeout=timeout, json={
        "username": "admin", "password": daemon.admin_password()}).raise_for_status()
    return s


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a process (its threads included), from /proc."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def estate_of(args: argparse.Namespace) -> dict:
    """The cmonsim estate the options describe, in its own process (its CPU is not the
    daemon's); announced, since starting a large one takes a while."""
    print(f"estate {args.controllers} x {args.clusters} x {args.hosts}, latency "
          f"{args.latency * 1000:.0f} ms; starting cmonsim (own process) ...", flush=True)
    return {"controllers": args.controllers, "clusters": args.clusters, "hosts": args.hosts,
            "seed": 1, "latency": args.latency, "subprocess": True}


@contextmanager
def daemon_over_estate(timeout: int, prefix: str, login_timeout: float = 30,
                       **estate: object) -> Iterator[Bench]:
    """A cmonsim estate (``start_estate``'s arguments), a daemon configured with every
    controller of it (``timeout``: the controllers' timeout), and a logged-in session;
    all stopped at the end."""
    with start_estate(**estate) as sim, tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        basedir = Path(tmp) / "basedir"
        basedir.mkdir(mode=0o750)
        write_config(basedir, {"timeout": timeout, "instances": [
            {"url": c.url, "name": c.name, "username": c.username, "password": c.password}
            for c in sim]})
        sim_cpu = cpu_seconds(sim.pid) if sim.pid else 0.0
        started = time.perf_counter()
        bench = Bench(sim, start_daemon(basedir), requests.Session(), Path(tmp), login_timeout,
                      started, sim_cpu)
        try:
            bench.session = _logged_in(bench.daemon, login_timeout)
            yield bench
        finally:
            stop_daemon(bench.daemon)
