"""API fuzzing with every schemathesis check: does the daemon keep its OpenAPI document?

    .venv/bin/python bench/fuzz_api.py [--max-examples 30] [--max-time 240] [--checks all]

Starts two simulated controllers and a real ccmgr daemon on loopback, logs in, and runs
``schemathesis run --checks all`` (the CLI) against the served /openapi.json with the
session cookie, controllers confined to loopback addresses as in
tests/integration/test_openapi.py. logout is left out (it would end the session).
Prints schemathesis' own summary (operations, test cases, failures by check). Figures go
to docs/benchmarks.md, "Robustness". Bounded by --max-examples and --max-time; everything
started is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests" / "integration"))

from benchkit import daemon_over_estate  # noqa: E402
from daemonkit import VENV_BIN  # noqa: E402
from test_openapi import _loopback_only  # noqa: E402

# Controller writes and tests: positive data only, because negative data would put
# arbitrary URLs (not loopback) into controller logins; and the rules the document cannot
# state (a URL already configured: 425 TryAgain as cmon-proxy; credentials missing for a
# non-LDAP controller, https only: 400) are accepted answers to schema-valid data.
CONTROLLER_OPERATIONS = """
[[operations]]
include-path-regex = "^/proxy/controllers/(test|add|update|remove)$"
generation.mode = "positive"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "404", "425"]
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=30)
    parser.add_argument("--max-time", type=int, default=240)
    parser.add_argument("--checks", default="all")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    with daemon_over_estate(3, "ccmgr-fuzz-", login_timeout=10, controllers=2, clusters=2,
                            hosts=1, seed=11) as bench:
        daemon, session, tmp = bench.daemon, bench.session, bench.scratch
        schema = Path(tmp) / "openapi.json"
        schema.write_text(json.dumps(_loopback_only(
            session.get(f"{daemon.url}/openapi.json", timeout=10).json())))
        # The session goes in as the document's "sid" security scheme, so schemathesis
        # also knows to try requests without it (and expects them refused).
        config = Path(tmp) / "schemathesis.toml"
        config.write_text(f'[auth.openapi.sid]\napi_key = "{session.cookies.get("sid")}"\n'
                          + CONTROLLER_OPERATIONS)
        command = [str(VENV_BIN / "schemathesis"), "--config-file", str(config), "run",
                   str(schema), "--url", daemon.url,
                   "--checks", args.checks, "--max-examples", str(args.max_examples),
                   "--max-time", str(args.max_time), "--seed", str(args.seed),
                   "--tls-verify", daemon.ca, "--request-timeout", "15",
                   "--exclude-path", "/proxy/auth/logout", "--workers", "1",
                   "--continue-on-failure", "--no-shrink"]
        done = subprocess.run(command, check=False, cwd=tmp)  # its .schemathesis/ there
        return done.returncode


if __name__ == "__main__":
    sys.exit(main())
