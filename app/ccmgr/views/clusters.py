"""clusters/status, clusters/list, clusters/hosts, clusters/missingSchedules (spec §2.7,
§4.2, §4.7). Pure."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ccmgr.cmon import records
from ccmgr.cmon.model import ControllerData, derived
from ccmgr.views.clustertable import CLUSTER_FIELDS, ClusterTable, ordered
from ccmgr.views.common import bump, controller_passes, proxy_fields
from ccmgr.views.listrequest import Filter, ListRequest, Match, list_reply, page_body

# Sorting and filtering work on (controller, record) entries; items are built per page.
CLUSTER_SORT = {
    "cluster_id": lambda e: e[1]["cluster_id"],
    "state": lambda e: e[1]["state"],
    "cluster_type": lambda e: e[1]["cluster_type"],
}
HOST_SORT = {
    "cluster_id": lambda e: e[1].get("clusterid", 0),
    "port": lambda e: e[1].get("port", 0),
    "hostname": lambda e: e[1].get("hostname", ""),
    "role": lambda e: e[1].get("role", ""),
    "nodetype": lambda e: e[1].get("nodetype", ""),
    "hoststatus": lambda e: e[1].get("hoststatus", ""),
}
BY_KEY = (lambda e: f"{e[0].xid}-{e[1]['cluster_id']}", None)  # v2.2 default: Key, any way


def is_controller_host(host: dict) -> bool:
    return host.get("nodetype") == "controller"


HOST_CLUSTER_FIELDS = {"cluster_id": lambda cl: str(cl["cluster_id"]),
                       "clusterid": lambda cl: str(cl["cluster_id"]),
                       "cluster_type": lambda cl: cl["cluster_type"]}
HOST_FIELDS = {"port": lambda h: str(h["port"]), "hostname": lambda h: h["hostname"],
               "role": lambda h: h["role"], "nodetype": lambda h: h["nodetype"],
               "hoststatus": lambda h: h["hoststatus"]}


def _cluster_matcher(match: Match) -> Callable[[dict], bool]:
    return match.record(CLUSTER_FIELDS, lambda cl: cl.get("tags"))


def _without_first_controller(hosts: list[dict]) -> list[dict]:
    """with_hosts drops the cluster's first controller entry (order kept, unlike cmon-proxy)."""
    for index, host in enumerate(hosts):
        if is_controller_host(host):
            return hosts[:index] + hosts[index + 1:]
    return list(hosts)


def cluster_item(c: ControllerData, cluster: dict, with_hosts: bool,
                 controller_url: str | None = None) -> dict:
    """A reply item from a cached (light) cluster: shaped here, for one page only."""
    item = proxy_fields(c)
    if controller_url is not None:
        item["controller_url"] = controller_url
    raw = records.raw_cluster(cluster) if with_hosts else records.raw_cluster_head(cluster)
    shaped = records.cluster(raw, with_hosts=False)
    hosts = [records.host(raw["hosts"][h["_raw"][1]])
             for h in _without_first_controller(records.hosts_of(cluster))] \
        if with_hosts else []
    for key, value in shaped.items():
        item[key] = value
        if key == "cluster_type" and hosts:
            item["hosts"] = hosts  # where cmon-proxy's struct has it
    item["Key"] = f"{c.xid}-{cluster['cluster_id']}"
    return item


def clusters_list(controllers: Sequence[ControllerData], req: ListRequest) -> dict:
    """The page of matching clusters, selected on the indexed table (views.clustertable):
    the same result as filtering, sorting and paging the entries one by one. Its items are
    encoded already (``jsonfast.dumps`` writes the body)."""
    table = ClusterTable.of(controllers)
    match = Match(req.filters)
    order = ordered(table, req.order, CLUSTER_SORT, BY_KEY)
    selected, looked = table.select(match, order)

    def last_updated_of() -> dict:
        return {c.url: c.data["clusters"]["processed"] for c in looked}

    # Every controller looked at (no controller-level filter): the same for every query.
    last_updated = derived(controllers, "clusters last updated", last_updated_of) \
        if looked is table.controllers else last_updated_of()
    total = selected.bit_count()
    start, count = ((req.page - 1) * req.per_page, req.per_page) if req.per_page > 0 \
        else (0, total)
    items = table.encoded_page(order, selected, start, count, req.with_hosts,
                               lambda e: cluster_item(e[0], e[1], req.with_hosts))
    return page_body("clusters", items, req, total, last_updated)


def clusters_hosts(controllers: Sequence[ControllerData], req: ListRequest) -> dict:
    entries, last_updated = [], {}
    match = Match(req.filters)
    cluster_ok = match.record(HOST_CLUSTER_FIELDS, lambda cl: cl.get("tags"))
    host_ok = match.record(HOST_FIELDS)
    for c in controllers:
        clusters = c.clusters()
        if clusters is None or not controller_passes(match, c):
            continue
        last_updated[c.url] = c.data["clusters"]["processed"]
        for cl in clusters:
            if not cluster_ok(cl):
                continue
            entries.extend((c, host) for host in records.hosts_of(cl)
                           if not is_controller_host(host) and host_ok(host))
    return list_reply("hosts", entries, req, last_updated, req.order, HOST_SORT,
                      build=lambda e: {**proxy_fields(e[0]),
                                       **records.host(records.raw_host(e[1]))})


def missing_schedules(controllers: Sequence[ControllerData], req: ListRequest) -> dict:
    """Clusters without a scheduled backup job. Controllers whose schedules are unknown
    (never fetched) are left out rather than reported as missing everything."""
    entries, last_updated = [], {}
    ok = _cluster_matcher(Match(req.filters))
    for c in controllers:
        clusters, backups = c.clusters(), c.payload("backups")
        if clusters is None or backups is None:
            continue
        last_updated[c.url] = c.data["clusters"]["processed"]
        scheduled = {j.get("cluster_id", 0) for j in backups["schedules"]}
        entries.extend((c, cl) for cl in clusters
                       if cl["cluster_id"] not in scheduled and ok(cl))
    return list_reply("clusters", entries, req, last_updated, req.order, CLUSTER_SORT, BY_KEY,
                      # cmon-proxy returns the cached cluster whole, hosts included (§4.7)
                      build=lambda e: cluster_item(e[0], e[1], True, controller_url=""))


def clusters_status(controllers: Sequence[ControllerData], filters: Sequence[Filter]) -> dict:
    """ClustersOverview (§4.2); only the tags filter applies; empty maps are omitted."""
    cluster_states: dict = {}
    node_states: dict = {}
    clusters_count: dict = {}
    nodes_count: dict = {}
    by_type: dict = {}
    by_controller: dict = {}
    required = Match(filters).tags  # None: no tags filter
    # One pass over every cluster of the estate (20,000 at 500 controllers): the counters
    # of each controller and type are looked up once per controller, not per cluster.
    for c in controllers:
        clusters = [cl for cl in c.clusters() or ()
                    if required is None or required.issubset(cl.get("tags") or ())]
        if not clusters:
            continue
        mine_states: dict = {}
        mine_nodes: dict = {}
        mine_clusters: dict = {}
        types: dict = {}  # cluster type -> [cluster count, node count]
        for cl in clusters:
            state, ctype = cl["state"], cl["cluster_type"]
            kind = by_type.get(ctype)
            if kind is None:
                kind = by_type[ctype] = {"cluster_states": {}, "clusters_count": {},
                                         "nodes_count": {}, "node_states": {}}
            mine_states[state] = mine_states.get(state, 0) + 1
            kind_states = kind["cluster_states"]
            kind_states[state] = kind_states.get(state, 0) + 1
            counts = types.get(ctype)
            if counts is None:
                counts = types[ctype] = [0, 0]
            counts[0] += 1
            counts[1] += cl["nodes"] - 1  # cmon-proxy: one controller host each
            per_cluster = cl["node_states"]  # counted when the cluster was cached
            if per_cluster:
                kind_nodes = kind["node_states"]
                for status, n in per_cluster.items():
                    mine_nodes[status] = mine_nodes.get(status, 0) + n
                    kind_nodes[status] = kind_nodes.get(status, 0) + n
                mine_clusters[str(cl["cluster_id"])] = {"node_states": dict(per_cluster)}
            else:
                mine_clusters[str(cl["cluster_id"])] = {}
        for state, n in mine_states.items():
            bump(cluster_states, state, n)
        for status, n in mine_nodes.items():
            bump(node_states, status, n)
        for ctype, (count, nodes) in types.items():
            kind = by_type[ctype]
            for target in (clusters_count, kind["clusters_count"]):
                bump(target, c.url, count)
            for target in (nodes_count, kind["nodes_count"]):
                bump(target, c.url, nodes)
        mine = by_controller.setdefault(c.xid, {"cluster_states": {}, "node_states": {},
                                                "by_cluster": {}})
        for target, counts in ((mine["cluster_states"], mine_states),
                               (mine["node_states"], mine_nodes)):
            for key, n in counts.items():
                bump(target, key, n)
        mine["by_cluster"].update(mine_clusters)
    body: dict = {}
    for key, value in (("cluster_states", cluster_states), ("node_states", node_states),
                       ("clusters_count", clusters_count), ("nodes_count", nodes_count)):
        if value:
            body[key] = value
    if by_type:
        body["by_cluster_type"] = {t: {k: v for k, v in m.items() if v}
                                   for t, m in by_type.items()}
    if by_controller:
        body["by_controller"] = {x: {k: v for k, v in m.items() if v}
                                 for x, m in by_controller.items()}
    return body
