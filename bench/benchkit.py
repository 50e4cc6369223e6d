"""What the daemon benches share: the estate options, and a real daemon over a cmonsim
estate in its own process with an admin session (bench/aggregate.py, bench/ui.py)."""

from __future__ import annotations

import argparse
import sys
import tempfile
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


@contextmanager
def daemon_over_estate(args: argparse.Namespace, timeout: int, prefix: str
                       ) -> Iterator[Bench]:
    """cmonsim in its own process (its CPU is not the daemon's), a daemon configured with
    every controller of it, and a logged-in session; all stopped at the end."""
    print(f"estate {args.controllers} x {args.clusters} x {args.hosts}, latency "
          f"{args.latency * 1000:.0f} ms; starting cmonsim (own process) ...", flush=True)
    with start_estate(controllers=args.controllers, clusters=args.clusters, hosts=args.hosts,
                      seed=1, latency=args.latency, subprocess=True) as estate, \
            tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        basedir = Path(tmp) / "basedir"
        basedir.mkdir(mode=0o750)
        write_config(basedir, {"timeout": timeout, "instances": [
            {"url": c.url, "name": c.name, "username": c.username, "password": c.password}
            for c in estate]})
        daemon = start_daemon(basedir)
        try:
            s = daemon.session()
            s.post(f"{daemon.url}/proxy/auth/login", timeout=30, json={
                "username": "admin", "password": daemon.admin_password()}).raise_for_status()
            yield Bench(estate, daemon, s, Path(tmp))
        finally:
            stop_daemon(daemon)
