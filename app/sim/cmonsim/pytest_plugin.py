"""pytest plugin (registered through the `pytest11` entry point of cmonsim).

Fixture `cmon_estate` is a factory; every estate it starts is torn down after
the test, also when the test fails:

    def test_alarms_are_fetched_once_per_cluster(cmon_estate):
        estate = cmon_estate(controllers=3, clusters=4, hosts=2, seed=7,
                             faults={2: {"mode": "refused"}}, latency=0.05)
        ctl = estate[0]
        ...  # point the code under test at ctl.url with ctl.username / ctl.password
        assert ctl.count("/v2/alarm", "getAlarms") == 4

Arguments are those of `cmonsim.testing.start_estate` (controllers, clusters,
hosts, seed, faults, latency, jitter, ldap, subprocess, prefix, now, quirks...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .testing import SimEstate, start_estate


@pytest.fixture
def cmon_estate() -> Iterator[Callable[..., SimEstate]]:
    started: list[SimEstate] = []

    def factory(*args: Any, **kwargs: Any) -> SimEstate:
        estate = start_estate(*args, **kwargs)
        started.append(estate)
        return estate

    yield factory
    for estate in reversed(started):
        estate.stop()
