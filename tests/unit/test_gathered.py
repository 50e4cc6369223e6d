"""What requests work out from a gather result is kept with it (cmon.model.Gathered), and
the reply headers made from it are the same as from a plain list of the same data."""

from __future__ import annotations

import falcon
from ccmgr.cmon.errors import Timeout
from ccmgr.cmon.model import ControllerData, Gathered, derived, versions
from ccmgr.resources.common import (
    AGE_HEADER,
    CONTROLLERS_HEADER,
    FAILED_HEADER,
    set_age,
    set_partial,
)


def estate() -> list[ControllerData]:
    return [
        ControllerData(xid="a", url="https://a", fetched_at={"clusters": 100.0},
                       version_key=("a", 1)),
        ControllerData(xid="b", url="https://b", fetched_at={"clusters": 90.0, "jobs": 50.0},
                       errors={"jobs": Timeout("late")}, version_key=("b", 2)),
        ControllerData(xid="c", url="https://c", fetched_at={"clusters": None},
                       version_key=("c", 3)),
    ]


def headers(controllers, kinds, now) -> dict:
    resp = falcon.Response()
    set_age(resp, controllers, kinds, now)
    set_partial(resp, controllers, kinds)
    return {name: resp.get_header(name) for name in (AGE_HEADER, CONTROLLERS_HEADER,
                                                    FAILED_HEADER)}


def test_headers_from_a_gathered_result_equal_those_from_a_list_at_every_moment():
    plain, gathered = estate(), Gathered(estate())
    for kinds in (("clusters",), ("clusters", "jobs")):
        for now in (120.0, 300.0):  # the age moves on while the kept oldest time does not
            assert headers(gathered, kinds, now) == headers(plain, kinds, now)
    assert headers(gathered, ("clusters",), 120.0) == {
        AGE_HEADER: "30", CONTROLLERS_HEADER: "3/3", FAILED_HEADER: None}
    assert headers(gathered, ("clusters", "jobs"), 300.0) == {
        AGE_HEADER: "250", CONTROLLERS_HEADER: "2/3", FAILED_HEADER: "b"}


def test_a_value_is_made_once_per_result_and_key_and_never_for_a_plain_list():
    calls = []

    def make():
        calls.append(1)
        return len(calls)

    gathered = Gathered(estate())
    assert derived(gathered, "k", make) == 1
    assert derived(gathered, "k", make) == 1
    assert derived(gathered, "other", make) == 2
    assert derived(Gathered(estate()), "k", make) == 3   # another result: made again
    assert derived(estate(), "k", make) == 4             # a plain list keeps nothing
    assert derived(estate(), "k", make) == 5
    assert versions(gathered) == (("a", 1), ("b", 2), ("c", 3))
    assert versions(gathered) is versions(gathered)


def test_client_state_changes_count_real_changes_only():
    """A kept gather result is valid while no client changed what it copied
    (collectors.service._Snapshot.clients_unchanged)."""
    from ccmgr.cmon.client import CmonClient, Credentials, state_changes
    from ccmgr.http import HttpPool

    client = CmonClient(HttpPool(), "https://127.0.0.1:9501", Credentials("u", "p"))
    start = state_changes()
    client.last_status, client.version, client.controller_id = "", "", ""
    assert state_changes() == start
    client.last_status = "Ok"
    client.version = "2.3.1"
    client.controller_id = "c-1"
    assert state_changes() == start + 3
    client.last_status, client.version, client.controller_id = "Ok", "2.3.1", "c-1"
    assert state_changes() == start + 3
    assert (client.last_status, client.version, client.controller_id) == ("Ok", "2.3.1", "c-1")
