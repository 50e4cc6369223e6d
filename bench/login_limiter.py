"""Login limiter bench: how many of N concurrent wrong passwords are checked?

    .venv/bin/python bench/login_limiter.py [--guesses 40]

Starts a real ccmgr daemon on loopback and sends ``--guesses`` wrong passwords for
``admin`` at once (one thread and connection each, released together), then, from the
same address, a successful login of another user followed by one more guess. Prints how
many guesses were checked (401) and refused unchecked (429); the limit is 10 per address
and per user in 5 minutes. Figures go to docs/benchmarks.md, "Robustness".
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from daemonkit import VENV_BIN, start_daemon, stop_daemon  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guesses", type=int, default=40)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ccmgr-limiter-") as tmp:
        basedir = Path(tmp)
        daemon = start_daemon(basedir)
        try:
            subprocess.run([str(VENV_BIN / "ccmgradm"), "--basedir", str(basedir), "adduser",
                            "bob", "--password-stdin"], input="Bob-pw-1\n", text=True,
                           check=True, capture_output=True)
            start = threading.Barrier(args.guesses)

            def guess(i: int) -> int:
                start.wait()
                return requests.post(f"{daemon.url}/proxy/auth/login", verify=daemon.ca,
                                     timeout=60, json={"username": "admin",
                                                       "password": f"wrong-{i}"}).status_code

            with ThreadPoolExecutor(max_workers=args.guesses) as pool:
                codes = list(pool.map(guess, range(args.guesses)))
            other = requests.post(f"{daemon.url}/proxy/auth/login", verify=daemon.ca,
                                  timeout=30, json={"username": "bob", "password": "Bob-pw-1"})
            after = requests.post(f"{daemon.url}/proxy/auth/login", verify=daemon.ca,
                                  timeout=30, json={"username": "admin", "password": "x"})
            print(f"{args.guesses} concurrent wrong passwords: {codes.count(401)} checked "
                  f"(401), {codes.count(429)} refused unchecked (429), "
                  f"{len(codes) - codes.count(401) - codes.count(429)} other")
            print(f"then bob's login from the same address: {other.status_code}; "
                  f"the next guess for admin: {after.status_code}")
        finally:
            stop_daemon(daemon)
    return 0


if __name__ == "__main__":
    sys.exit(main())
