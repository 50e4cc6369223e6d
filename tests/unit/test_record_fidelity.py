"""Record fidelity against cmon-proxy v2.2 (issue 13 items 5 and 7): types kept as cmon sends
them, replica null kept, missingSchedules with hosts, zero-count cluster types kept."""

from __future__ import annotations

import pytest
from ccmgr.cmon import records
from ccmgr.views import backups, clusters
from ccmgr.views.listrequest import Filter, ListRequest
from unit.test_views import A, B, ctl


@pytest.mark.parametrize("valid", [True, False])
def test_license_valid_date_stays_a_boolean(valid):
    shaped = records.license_info({"class_name": "CmonLicense", "valid_date": valid,
                                   "days_left": 3}, records.LICENSE_FIELDS)
    assert shaped["valid_date"] is valid  # never "true"/"false" ("false" is truthy in JS)


def test_replica_null_is_kept_and_an_object_is_shaped():
    assert records.host({"hostId": 1})["replica"] is None
    shaped = records.host({"hostId": 1, "replica": {"synchronization_health": "HEALTHY",
                                                    "x": 1}})
    assert shaped["replica"] == {"synchronization_health": "HEALTHY"}


def test_missing_schedules_items_carry_their_hosts():
    body = clusters.missing_schedules([ctl("x1", "h1:9501", A.clusters(), backups={
        "backups": [], "schedules": []}), B], ListRequest())
    item = next(i for i in body["clusters"] if i["cluster_id"] == 1)
    assert [h["hostId"] for h in item["hosts"]] == [1, 2]


def test_backups_status_with_tags_keeps_zero_count_cluster_types():
    a = ctl("x1", "h1:9501", A.clusters(), backups={"backups": [], "schedules": []})
    body = backups.backups_status([a], [Filter("tags", matchall=("eu",))])
    assert body["by_cluster_type"]["REPLICATION"] == {"backups_count": {},
                                                      "missing_schedules": 0,
                                                      "schedules_count": 0}
    assert body["by_cluster_type"]["GALERA"]["missing_schedules"] == 1
