"""The admin endpoint's cluster rename: the new name is what every client reads next."""

from __future__ import annotations

import pytest
from cmonsim.testing import AdminError


def test_a_renamed_cluster_is_served_with_its_new_name(cmon_estate, client_for):
    estate = cmon_estate(controllers=1, clusters=2, hosts=1)
    ctl = estate[0]
    client = client_for(ctl)
    before = client.call("clusters", "getAllClusterInfo")  # fills the reply cache
    assert len(before["clusters"]) == 2
    hostile = '<img src=x onerror="alert(1)">'
    ctl.rename_cluster(1, hostile)
    after = client.call("clusters", "getAllClusterInfo")
    names = {c["cluster_id"]: c["cluster_name"] for c in after["clusters"]}
    assert names[1] == hostile
    assert names[2] == next(c["cluster_name"] for c in before["clusters"]
                            if c["cluster_id"] == 2)


@pytest.mark.parametrize(("cluster", "body", "word"), [
    (99, {"cluster_name": "x"}, "HTTP 404"),
    (1, {"cluster_name": ""}, "HTTP 400"),
    (1, {"cluster_name": "x", "state": "FAILED"}, "HTTP 400"),
])
def test_bad_renames_are_refused(cmon_estate, cluster, body, word):
    ctl = cmon_estate(controllers=1, clusters=2, hosts=1)[0]
    with pytest.raises(AdminError, match=word):
        ctl._admin("PATCH", f"/clusters/{cluster}", body)
