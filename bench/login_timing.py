"""Login timing bench: what a wrong password costs, per kind of account.

    .venv/bin/python bench/login_timing.py [--rounds 40]

Builds the app around a temporary basedir (in process, falcon's test client: the figure
is ccmgr's own work, not TLS or the network) with a local user per hash format, and
times ``POST /proxy/auth/login`` with a wrong password for each, interleaved, ``--rounds``
times: a passlib PBKDF2-SHA256 user, imported cmon-proxy users (``salt:iterations:key``
with the fewest and the most rounds cmon-proxy makes) and an unknown user. The login
limiter is lifted for the bench. Prints the median and spread per kind, and each median
against the passlib user's. Figures go to docs/benchmarks.md, "Robustness".
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time

from ccmgr import users
from ccmgr.app import create_app
from ccmgr.bootstrap import bootstrap
from ccmgr.passwords import legacy_hash
from ccmgr.ratelimit import LoginLimiter
from ccmgr.runtime import Services
from falcon import testing

KINDS = {"passlib": None, "cmon-proxy 2560 rounds": 2560, "cmon-proxy 12799 rounds": 12799,
         "unknown user": None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ccmgr-timing-") as basedir:
        services = Services.from_basedir(basedir)
        services.limiter = LoginLimiter(max_failures=10**9)
        bootstrap(services)

        def add(doc: dict) -> None:
            users.add_user(doc, "passlib", "right")
            for name, rounds in KINDS.items():
                if rounds:
                    doc["users"].append({"username": name.replace(" ", "-"),
                                         "passwordhash": legacy_hash("right",
                                                                     iterations=rounds)})
        services.store.update(add)
        client = testing.TestClient(create_app(services))
        names = {kind: kind.replace(" ", "-") for kind in KINDS}
        names["unknown user"] = "nobody"
        times: dict[str, list[float]] = {kind: [] for kind in KINDS}
        for _ in range(args.rounds):
            for kind, name in names.items():
                body = json.dumps({"username": name, "password": "wrong"})
                started = time.perf_counter()
                reply = client.simulate_post("/proxy/auth/login", body=body)
                times[kind].append((time.perf_counter() - started) * 1000)
                assert reply.status_code == 401, reply.text
        base = statistics.median(times["passlib"])
        for kind, values in times.items():
            median = statistics.median(values)
            print(f"{kind:24} median {median:6.1f} ms  (min {min(values):5.1f}, "
                  f"max {max(values):5.1f})  {median / base:5.2f} x passlib")
    return 0


if __name__ == "__main__":
    sys.exit(main())
