"""The OpenAPI document and the daemon agree under every schemathesis check (negative
data, status codes, null, field rules), not only the response checks of test_openapi.py
(issue 18, defect 9). A short bounded run of bench/fuzz_api.py; its figures are in
docs/benchmarks.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "fuzz_api.py"


@pytest.mark.slow
def test_schemathesis_checks_all_pass():
    done = subprocess.run([sys.executable, str(BENCH), "--max-examples", "4",
                           "--max-time", "90"], capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stdout[-6000:]
