"""Aggregates against simulated controllers: keys, counts, filters, order, paging."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest
from cmonsim.testing import start_estate


@pytest.fixture(scope="module")
def estate():
    with start_estate(controllers=2, clusters=5, hosts=2, seed=3) as e:
        yield e


@pytest.fixture(scope="module")
def sim_data(estate):
    return [c.data() for c in estate]


@pytest.fixture
def api(make_api, estate):
    return make_api(estate)


def _db_hosts(cluster):
    return [h for h in cluster["hosts"] if h["nodetype"] != "controller"]


def _t(text):
    return datetime.fromisoformat(text) if text else None


# -- clusters ------------------------------------------------------------------------------
def test_clusters_status_counts_match_the_controllers(api, estate, sim_data):
    reply = api.post("/proxy/clusters/status", {})
    assert reply.status_code == 200
    body = reply.json
    clusters = [cl for d in sim_data for cl in d["clusters"]]
    assert body["cluster_states"] == dict(Counter(cl["state"] for cl in clusters))
    assert body["node_states"] == dict(Counter(h["hoststatus"] for cl in clusters
                                               for h in _db_hosts(cl)))
    pairs = list(zip(estate, sim_data, strict=True))
    assert body["clusters_count"] == {c.url: len(d["clusters"]) for c, d in pairs}
    assert body["nodes_count"] == {c.url: sum(len(cl["hosts"]) - 1 for cl in d["clusters"])
                                   for c, d in pairs}
    assert set(body["by_controller"]) == {api.xid(0), api.xid(1)}
    mine = body["by_controller"][api.xid(0)]
    assert set(mine["by_cluster"]) == {str(cl["cluster_id"]) for cl in sim_data[0]["clusters"]}
    assert sum(sum(m["cluster_states"].values()) for m in body["by_cluster_type"].values()) \
        == len(clusters)


def test_clusters_status_tags_matchall(api, sim_data):
    tagged = [cl for d in sim_data for cl in d["clusters"] if cl.get("tags")]
    tag = tagged[0]["tags"][0]
    expected = [cl for d in sim_data for cl in d["clusters"] if tag in cl.get("tags", [])]
    body = api.post("/proxy/clusters/status", {"filters": [{"key": "tags", "matchall": [tag]}]})
    assert sum(body.json["cluster_states"].values()) == len(expected)
    nothing = api.post("/proxy/clusters/status", {"filters": [
        {"key": "tags", "matchall": [tag, "no-such-tag"]}]})
    assert nothing.json == {}


def test_clusters_list_items_keys_and_default_order(api, estate, sim_data):
    body = api.post("/proxy/clusters/list", {}).json
    total = sum(len(d["clusters"]) for d in sim_data)
    assert body["total"] == total and len(body["clusters"]) == total
    assert "page" not in body and "perPage" not in body
    item = body["clusters"][0]
    assert list(item)[:3] == ["xid", "controller_id", "controller_url"]
    assert "hosts" not in item
    assert item["Key"] == f"{item['xid']}-{item['cluster_id']}"
    assert [i["Key"] for i in body["clusters"]] == sorted(i["Key"] for i in body["clusters"])
    assert set(body["last_updated"]) == {c.url for c in estate}
    assert all(v.endswith("Z") and "." not in v for v in body["last_updated"].values())
    assert item["controller_id"] == estate[0].controller_id or \
        item["controller_id"] == estate[1].controller_id


def test_clusters_list_with_hosts_drops_the_controller_host(api, sim_data):
    body = api.post("/proxy/clusters/list", {"with_hosts": True}).json
    by_key = {(i["controller_url"], i["cluster_id"]): i for i in body["clusters"]}
    assert len(by_key) == sum(len(d["clusters"]) for d in sim_data)
    for item in body["clusters"]:
        assert all(h["nodetype"] != "controller" for h in item["hosts"])
        assert len(item["hosts"]) == 2  # hosts=2 database nodes, the controller entry dropped


@pytest.mark.parametrize("key", ["state", "cluster_type", "cluster_id"])
def test_clusters_list_filters(api, sim_data, key):
    values = sorted({str(cl[key]) for d in sim_data for cl in d["clusters"]})
    chosen = values[:2]
    body = api.post("/proxy/clusters/list", {"filters": [{"key": key, "values": chosen}]}).json
    expected = [cl for d in sim_data for cl in d["clusters"] if str(cl[key]) in chosen]
    assert body["total"] == len(expected)
    assert all(str(i[key]) in chosen for i in body["clusters"])
    single = api.post("/proxy/clusters/list", {"filters": [{"key": key, "value": values[0]}]})
    assert all(str(i[key]) == values[0] for i in single.json["clusters"])


def test_first_filter_per_key_wins_and_unknown_keys_filter_nothing(api, sim_data):
    states = sorted({cl["state"] for d in sim_data for cl in d["clusters"]})
    body = api.post("/proxy/clusters/list", {"filters": [
        {"key": "state", "value": states[0]}, {"key": "state", "value": states[1]},
        {"key": "no_such_key", "value": "x"}]}).json
    assert {i["state"] for i in body["clusters"]} == {states[0]}
    empty = api.post("/proxy/clusters/list", {"filters": [{"key": "state"}]}).json
    assert empty["clusters"] == [] and "total" not in empty


@pytest.mark.parametrize("key", ["xid", "controller_url", "controller_id"])
def test_controller_level_filters_skip_whole_controllers(api, estate, key):
    value = {"xid": api.xid(1), "controller_url": estate[1].url,
             "controller_id": estate[1].controller_id}[key]
    body = api.post("/proxy/clusters/list", {"filters": [{"key": key, "value": value}]}).json
    assert {i["controller_url"] for i in body["clusters"]} == {estate[1].url}
    assert list(body["last_updated"]) == [estate[1].url]


def test_clusters_list_tags_matchall_is_and(api, sim_data):
    tagged = [cl for d in sim_data for cl in d["clusters"] if len(cl.get("tags", [])) >= 2]
    tags = tagged[0]["tags"][:2]
    expected = [cl for d in sim_data for cl in d["clusters"]
                if all(t in cl.get("tags", []) for t in tags)]
    body = api.post("/proxy/clusters/list", {"filters": [
        {"key": "tags", "matchall": tags, "value": "ignored"}]}).json
    assert body["total"] == len(expected)
    assert all(set(tags) <= set(i["tags"]) for i in body["clusters"])


@pytest.mark.parametrize("field", ["cluster_id", "state", "cluster_type"])
def test_clusters_list_sorts_both_ways(api, field):
    up = [i[field] for i in api.post("/proxy/clusters/list", {"order": field}).json["clusters"]]
    down = [i[field] for i in api.post("/proxy/clusters/list",
                                       {"order": f"{field} DESC"}).json["clusters"]]
    assert up == sorted(up) and down == sorted(down, reverse=True) and up != down


def test_paging_edges(api, sim_data):
    total = sum(len(d["clusters"]) for d in sim_data)
    full = api.post("/proxy/clusters/list", {}).json["clusters"]
    page2 = api.post("/proxy/clusters/list", {"page": 2, "perPage": 3}).json
    assert (page2["page"], page2["perPage"], page2["total"]) == (2, 3, total)
    assert page2["clusters"] == full[3:6]
    last = api.post("/proxy/clusters/list", {"page": (total + 2) // 3, "perPage": 3}).json
    assert last["clusters"] == full[3 * ((total + 2) // 3 - 1):]
    past = api.post("/proxy/clusters/list", {"page": 99, "perPage": 3}).json
    assert past["clusters"] == [] and past["total"] == total
    huge = api.post("/proxy/clusters/list", {"page": 1, "perPage": 1000}).json
    assert huge["clusters"] == full
    only_page = api.post("/proxy/clusters/list", {"page": 3}).json
    assert only_page["clusters"] == full and only_page["page"] == 3  # no perPage: no paging


@pytest.mark.parametrize(("body", "message"), [
    ({"page": 0, "perPage": 5}, 'Invalid request:field "page" must be at least 1 when '
                                '"perPage" is set'),
    ({"page": -1}, 'Invalid request:field "page" must be between 0 and 2147483648'),
    ({"page": "1"}, 'Invalid request:field "page" must be an integer'),
    ({"perPage": 1.5}, 'Invalid request:field "perPage" must be an integer'),
    ({"filters": [{"key": "cluster_id", "value": 5}]},
     'Invalid request:field "filters[0].value" must be a string'),
    ({"filters": [{"key": "tags", "matchall": [1]}]},
     'Invalid request:field "filters[0].matchall[0]" must be a string'),
    ({"filters": [{"key": "tags", "matchany": ["a"]}]},
     'Invalid request:unknown field "filters[0].matchany"'),
    ({"filters": {"key": "x"}}, 'Invalid request:field "filters" must be an array'),
    ({"per_page": 5}, 'Invalid request:unknown field "per_page"'),
    ("", "Invalid request:EOF"),
    ("[1]", "Invalid request:expected a JSON object"),
])
def test_bad_list_requests_are_400_with_the_error_object(api, body, message):
    reply = api.post("/proxy/clusters/list", body)
    assert reply.status_code == 400
    assert reply.json == {"type": "InvalidRequest", "message": message}


def test_get_takes_no_body_and_answers(api, sim_data):
    reply = api.get("/proxy/clusters/list")
    assert reply.status_code == 200
    assert reply.json["total"] == sum(len(d["clusters"]) for d in sim_data)


# -- hosts ---------------------------------------------------------------------------------
def test_hosts_exclude_controllers_and_filter(api, sim_data):
    hosts = [h for d in sim_data for cl in d["clusters"] for h in _db_hosts(cl)]
    body = api.post("/proxy/clusters/hosts", {}).json
    assert body["total"] == len(hosts)
    assert all(h["nodetype"] != "controller" for h in body["hosts"])
    assert list(body["hosts"][0])[:4] == ["xid", "controller_id", "controller_url", "class_name"]
    for key in ("hoststatus", "nodetype", "role", "hostname", "port"):
        value = str(hosts[0][key])
        got = api.post("/proxy/clusters/hosts", {"filters": [{"key": key, "value": value}]}).json
        assert got["total"] == sum(str(h[key]) == value for h in hosts), key
    for key in ("clusterid", "cluster_id"):
        got = api.post("/proxy/clusters/hosts", {"filters": [{"key": key, "values": ["1"]}]})
        assert {h["clusterid"] for h in got.json["hosts"]} == {1}
    ctype = sim_data[0]["clusters"][0]["cluster_type"]
    got = api.post("/proxy/clusters/hosts", {"filters": [{"key": "cluster_type",
                                                          "value": ctype}]}).json
    assert got["total"] == sum(len(_db_hosts(cl)) for d in sim_data for cl in d["clusters"]
                               if cl["cluster_type"] == ctype)


@pytest.mark.parametrize(("order", "field"), [("port", "port"), ("hostname", "hostname"),
                                              ("cluster_id", "clusterid"), ("role", "role"),
                                              ("nodetype", "nodetype"),
                                              ("hoststatus", "hoststatus")])
def test_hosts_sort_both_ways(api, order, field):
    up = [h[field] for h in api.post("/proxy/clusters/hosts", {"order": order}).json["hosts"]]
    down = [h[field] for h in api.post("/proxy/clusters/hosts",
                                       {"order": f"{order} desc"}).json["hosts"]]
    assert up == sorted(up) and down == sorted(down, reverse=True)


# -- alarms --------------------------------------------------------------------------------
def test_alarms_status_and_list(api, estate, sim_data):
    alarms = [a for d in sim_data for a in d["alarms"] if a]
    status = api.post("/proxy/alarms/status", {}).json
    assert status["alarms_count"] == dict(Counter(a["severity_name"] for a in alarms))
    assert status["alarm_types"] == dict(Counter(a["type_name"] for a in alarms))
    for i, c in enumerate(estate):  # the same object under the xid and the URL
        assert status["by_controller"][api.xid(i)] == status["by_controller"][c.url]
    ignored = api.post("/proxy/alarms/status", {"filters": [{"key": "ignored", "value": "0"}]})
    assert sum(ignored.json["alarms_count"].values()) == sum(a["ignored"] == 0 for a in alarms)

    listed = api.post("/proxy/alarms/list", {"order": "created desc"}).json
    assert listed["total"] == len(alarms)
    created = [a["created"] for a in listed["alarms"]]
    assert created == sorted(created, reverse=True)
    assert all(c.endswith("Z") and "." not in c for c in created)
    assert set(listed["last_updated"]) == {c.url for c in estate}
    severity = alarms[0]["severity_name"]
    only = api.post("/proxy/alarms/list", {"filters": [
        {"key": "severity_name", "value": severity}]}).json
    assert only["total"] == sum(a["severity_name"] == severity for a in alarms)
    for key in ("type_name", "hostname", "component_name", "cluster_id", "cluster_type"):
        got = api.post("/proxy/alarms/list", {"filters": [{"key": key, "value": "zz-none"}]})
        # Records with an empty value always pass (cluster-level alarms have no hostname).
        assert all(str(a.get(key, "")) == "" for a in got.json["alarms"]), key
        assert len(got.json["alarms"]) < len(alarms), key
    for field in ("cluster_id", "severity_name", "type_name", "hostname", "component_name"):
        up = [a[field] for a in api.post("/proxy/alarms/list", {"order": field}).json["alarms"]]
        assert up == sorted(up), field


# -- jobs ----------------------------------------------------------------------------------
def test_jobs_window_status_list_and_default_order(api, estate, sim_data):
    cutoff = datetime.now().astimezone() - timedelta(hours=12)
    expected = [j for d in sim_data for j in d["jobs"]
                if j.get("cluster_id") and _t(j["created"]) >= cutoff + timedelta(seconds=5)]
    listed = api.post("/proxy/jobs/list", {"order": "bogus asc"}).json
    ids = {(j["controller_url"], j["job_id"]) for j in listed["jobs"]}
    assert {(estate[i].url, j["job_id"]) for i, d in enumerate(sim_data) for j in d["jobs"]
            if j in expected} <= ids
    assert all(_t(j["created"]) >= cutoff - timedelta(seconds=5) for j in listed["jobs"])
    created = [j["created"] for j in listed["jobs"]]
    assert created == sorted(created, reverse=True)  # default: newest first, forced
    assert set(listed["last_updated"]) == {c.url for c in estate}

    status = api.post("/proxy/jobs/status", {}).json
    assert sum(status["job_count"].values()) == listed["total"]
    assert set(status["by_controller"]) == {c.url for c in estate}
    command = listed["jobs"][0]["job_spec"]["command"]
    got = api.post("/proxy/jobs/list", {"filters": [{"key": "job_command",
                                                     "value": command}]}).json
    assert got["total"] == status["job_commands"][command]
    for key in ("status", "job_id", "cluster_id", "cluster_type"):
        value = str(listed["jobs"][0].get(key, ""))
        if key == "cluster_type":
            continue
        got = api.post("/proxy/jobs/list", {"filters": [{"key": key, "value": value}]}).json
        assert got["total"] >= 1 and all(str(j[key]) == value for j in got["jobs"]), key
    for field in ("job_id", "cluster_id", "status", "title", "created"):
        down = [j.get(field) for j in api.post("/proxy/jobs/list",
                                               {"order": f"{field} desc"}).json["jobs"]]
        assert down == sorted(down, reverse=True), field


# -- backups -------------------------------------------------------------------------------
def test_backups_status_list_schedules_and_missing(api, estate, sim_data):
    cutoff = datetime.now().astimezone() - timedelta(days=7)
    recent = [b for d in sim_data for b in d["backups"]
              if _t(b["metadata"]["created"]) >= cutoff + timedelta(seconds=5)]
    listed = api.post("/proxy/backups/list", {}).json
    assert listed["total"] >= len(recent)
    assert all(_t(b["metadata"]["created"]) >= cutoff - timedelta(seconds=5)
               for b in listed["backups"])
    created = [b["metadata"]["created"] for b in listed["backups"]]
    assert created == sorted(created, reverse=True)
    first = listed["backups"][0]
    assert first["Key"] == f"{first['xid']}-{first['metadata']['id']}"
    assert list(first)[3:6] == ["host_locations", "cloud_locations", "metadata"]
    for key, value in (("backup_id", str(first["metadata"]["id"])),
                       ("xid_cid", f"{first['xid']}-{first['metadata']['cid']}"),
                       ("method", first["metadata"]["method"]),
                       ("status", first["metadata"]["status"])):
        got = api.post("/proxy/backups/list", {"filters": [{"key": key, "value": value}]}).json
        assert got["total"] >= 1, key
    assert api.post("/proxy/backups/list", {"filters": [
        {"key": "backup_id", "value": "999999"}]}).json["backups"] == []
    for field in ("id", "backup_id", "cluster_id", "status", "method", "created"):
        up = api.post("/proxy/backups/list", {"order": field}).json["backups"]
        key = {"backup_id": "id", "cluster_id": "cid"}.get(field, field)
        values = [b["metadata"][key] for b in up]
        assert values == sorted(values), field

    schedules = [j for d in sim_data for j in d["schedules"]
                 if j["job_spec"]["command"].lower() == "backup"]
    sched = api.post("/proxy/backups/schedules", {"order": "job_id"}).json
    assert sched["total"] == len(schedules)
    assert [j["job_id"] for j in sched["jobs"]] == sorted(j["job_id"] for j in sched["jobs"])

    status = api.post("/proxy/backups/status", {}).json
    scheduled = {(i, j["cluster_id"]) for i, d in enumerate(sim_data) for j in schedules
                 if j in d["schedules"]}
    missing = [(i, cl) for i, d in enumerate(sim_data) for cl in d["clusters"]
               if (i, cl["cluster_id"]) not in scheduled]
    assert status["missing_schedules"] == len(missing) >= 1
    assert status["schedules_count"] == len(schedules)
    assert sum(status["backups_count"].values()) == listed["total"]
    per_ctl = status["by_controller"][estate[0].url]
    assert per_ctl["missing_schedules"] == sum(1 for i, _ in missing if i == 0)

    gaps = api.post("/proxy/clusters/missingSchedules", {}).json
    assert gaps["total"] == len(missing)
    assert all(i["controller_url"] == "" for i in gaps["clusters"])
    assert {(i["xid"], i["cluster_id"]) for i in gaps["clusters"]} == {
        (api.xid(i), cl["cluster_id"]) for i, cl in missing}


# -- logs and audit ------------------------------------------------------------------------
def test_logs_and_audit_lists(api, sim_data):
    logs = api.post("/proxy/logs/list", {"order": "created desc"}).json
    per_cluster = Counter((i, e["log_specifics"]["cluster_id"])
                          for i, d in enumerate(sim_data) for e in d["logs"])
    assert logs["total"] == sum(min(n, 100) for n in per_cluster.values())
    created = [e["created"] for e in logs["logs"]]
    assert created == sorted(created, reverse=True)
    one = api.post("/proxy/logs/list", {"filters": [{"key": "cluster_id", "value": "1"}]})
    assert {e["log_specifics"]["cluster_id"] for e in one.json["logs"]} == {1}
    audit = api.post("/proxy/audit/list", {"order": "report_ts"}).json
    assert audit["total"] == sum(len(d["audit"]) for d in sim_data)
    stamps = [e["report_ts"] for e in audit["entries"]]
    assert stamps == sorted(stamps)
