"""Paging ends, lists are newest first, time windows cut the lists (reference §6, §7, §10)."""

from __future__ import annotations

import calendar
import time

import pytest

NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z: fixed so the windows are exact


def _ts(text: str) -> float:
    base, _, ms = text.rstrip("Z").partition(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) + int(ms or 0) / 1000


def _page_all(client, module: str, key: str, **fields) -> tuple[list, int]:
    """Page like cmon-proxy: 32 at a time until an empty page (bounded)."""
    items = []
    for pages, offset in enumerate(range(0, 100_000, 32), start=1):
        reply = client.call(module, _OPS[module], limit=32, offset=offset, **fields)
        assert reply["request_status"] == "Ok"
        page = reply.get(key, [])
        if not page:
            return items, pages
        items += page
    pytest.fail("paging did not end")


_OPS = {"jobs": "getJobInstances", "backup": "getBackups", "log": "getLogEntries",
        "audit": "getEntries"}


@pytest.fixture
def ctl(cmon_estate):
    return cmon_estate(controllers=1, clusters=8, hosts=2, seed=4, now=NOW)[0]


def test_job_paging_ends_with_an_empty_page_and_matches_total(ctl, client_for):
    client = client_for(ctl)
    ids = list(range(1, 9))
    jobs, pages = _page_all(client, "jobs", "jobs", cluster_ids=ids)
    total = client.call("jobs", "getJobInstances", cluster_ids=ids, limit=1)["total"]
    assert len(jobs) == total > 32
    assert pages == (total + 31) // 32 + 1
    job_ids = [j["job_id"] for j in jobs]
    assert job_ids == sorted(job_ids, reverse=True)  # newest first, no duplicates
    assert len(set(job_ids)) == len(job_ids)
    created = [_ts(j["created"]) for j in jobs]
    assert created == sorted(created, reverse=True)
    assert all(j["cluster_id"] in ids for j in jobs)


def test_jobs_ascending_reverses_the_order(ctl, client_for):
    client = client_for(ctl)
    desc = client.call("jobs", "getJobInstances", limit=5)["jobs"]
    asc = client.call("jobs", "getJobInstances", limit=5, ascending=True)["jobs"]
    assert desc[0]["job_id"] > asc[0]["job_id"]
    assert [j["job_id"] for j in asc] == sorted(j["job_id"] for j in asc)


def test_twelve_hour_job_window_cuts_the_list(ctl, client_for):
    jobs, _ = _page_all(client_for(ctl), "jobs", "jobs")
    ages = [NOW - _ts(j["created"]) for j in jobs]
    assert any(a < 12 * 3600 for a in ages)
    assert any(a > 12 * 3600 for a in ages)


def test_jobs_cover_every_executed_status(ctl, client_for):
    jobs, _ = _page_all(client_for(ctl), "jobs", "jobs")
    statuses = {j["status"] for j in jobs}
    assert statuses >= {"DEFINED", "DEQUEUED", "RUNNING", "RUNNING2", "RUNNING3", "RUNNING_EXT",
                        "ABORTED", "FINISHED", "FAILED"}
    assert not statuses & {"SCHEDULED", "PAUSED"}


def test_show_scheduled_returns_only_backup_schedules_with_recurrence(ctl, client_for):
    reply = client_for(ctl).call("jobs", "getJobInstances", show_scheduled=True)
    assert reply["total"] == len(reply["jobs"]) > 0
    for job in reply["jobs"]:
        assert job["status"] in ("SCHEDULED", "PAUSED")
        assert job["recurrence"] and len(job["recurrence"].split()) == 5
        assert job["job_spec"]["command"] == "backup"
        assert job["cluster_id"] >= 1


def test_backup_paging_ends_and_seven_day_window_cuts(ctl, client_for):
    client = client_for(ctl)
    records, _ = _page_all(client, "backup", "backup_records", ascending=False,
                           parent_id=0, backup_record_version=2)
    total = client.call("backup", "getBackups", backup_record_version=2, limit=1)["total"]
    assert len(records) == total > 32
    ids = [r["metadata"]["id"] for r in records]
    assert ids == sorted(ids, reverse=True)
    ages = [NOW - _ts(r["metadata"]["created"]) for r in records]
    assert min(ages) < 7 * 86400 < max(ages) <= 11 * 86400
    assert {r["metadata"]["status"] for r in records} >= {"Completed", "Failed", "Running",
                                                         "Pending"}


def test_backups_of_one_cluster(ctl, client_for):
    client = client_for(ctl)
    everything = client.call("backup", "getBackups", backup_record_version=2)["backup_records"]
    cid = everything[0]["metadata"]["cid"]
    mine = client.call("backup", "getBackups", cluster_id=cid,
                       backup_record_version=2)["backup_records"]
    assert mine and all(r["metadata"]["cid"] == cid for r in mine)
    assert len(mine) == sum(r["metadata"]["cid"] == cid for r in everything)


def test_offset_past_the_end_is_an_empty_page_with_total(ctl, client_for):
    client = client_for(ctl)
    for module, op, key in (("jobs", "getJobInstances", "jobs"),
                            ("backup", "getBackups", "backup_records"),
                            ("log", "getLogEntries", "log_entries"),
                            ("audit", "getEntries", "audit_entries")):
        reply = client.call(module, op, limit=10, offset=10_000)
        assert reply[key] == [] and reply["total"] > 0, module


def test_log_entries_filter_by_cluster_and_severity(ctl, client_for):
    client = client_for(ctl)
    logs = client.call("log", "getLogEntries", cluster_id=2, limit=100, offset=0)["log_entries"]
    assert logs and all(e["log_specifics"]["cluster_id"] == 2 for e in logs)
    warn = client.call("log", "getLogEntries", severity="LOG_WARNING")["log_entries"]
    assert all(e["severity"] in ("LOG_WARNING", "LOG_ERR", "LOG_CRIT") for e in warn)


def test_negative_limit_is_invalid(ctl, client_for):
    reply = client_for(ctl).call("jobs", "getJobInstances", limit=-1)
    assert reply["request_status"] == "InvalidRequest"
