"""`labctl.py down` leaves nothing behind: after a running lab, again, and after a crash.

These take the lab down, so they run after every other lab test (lab_teardown).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from labkit import LABCTL, lab_leftovers

pytestmark = [pytest.mark.lab, pytest.mark.lab_teardown(order=1)]


def test_down_leaves_nothing(lab):
    assert labkit_running(lab)
    lab.down()
    assert lab_leftovers(lab.paths) == []


def test_down_twice_is_harmless(lab):
    lab.down()
    lab.down()
    assert lab_leftovers(lab.paths) == []


@pytest.mark.slow
def test_down_after_an_interrupted_up_leaves_nothing(lab):
    # Start `up` and kill it (SIGKILL: no chance to clean up) once hosts are booting.
    proc = subprocess.Popen([sys.executable, str(LABCTL), "up"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 600
    seen = []
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line)
        if "booting" in line or time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert any("booting" in line for line in seen), "".join(seen)
    assert lab_leftovers(lab.paths), "the interrupted up left nothing to clean?"
    lab.down()
    assert lab_leftovers(lab.paths) == []


def test_down_after_a_killed_nspawn_leaves_nothing(lab):
    # A crashed (SIGKILLed) nspawn leaves its host's systemd and services running.
    lab.up()
    pid = int(lab.paths.pidfile("ccm1").read_text())
    os.kill(pid, signal.SIGKILL)
    lab.down()
    assert lab_leftovers(lab.paths) == []


def labkit_running(lab) -> bool:
    return all(lab.paths.pidfile(n).exists() for n in lab.hosts)
