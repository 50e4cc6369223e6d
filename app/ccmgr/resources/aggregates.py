"""/proxy/{clusters,alarms,jobs,backups,logs,audit}/*: collect, then render a view.

One generic resource: which data kinds to collect, which pure view renders them, which
request fields the endpoint takes. GET has no body (no filters); POST needs a JSON object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import falcon

from ccmgr import jsonfast
from ccmgr.collectors.memo import ReplyMemo
from ccmgr.collectors.service import Collectors
from ccmgr.resources.common import body_of, set_age, set_partial, who
from ccmgr.views import alarms, backups, clusters, jobs, listrequest, logs


@dataclass(frozen=True)
class Endpoint:
    kinds: tuple[str, ...]
    render: Callable[..., dict]
    status: bool = False        # status views take (controllers, filters)
    forces_clusters: bool = False


ENDPOINTS: dict[str, Endpoint] = {
    "/proxy/clusters/status": Endpoint(("clusters",), clusters.clusters_status, True, True),
    "/proxy/clusters/list": Endpoint(("clusters",), clusters.clusters_list, False, True),
    "/proxy/clusters/hosts": Endpoint(("clusters",), clusters.clusters_hosts, False, True),
    "/proxy/clusters/missingSchedules": Endpoint(("clusters", "backups"),
                                                 clusters.missing_schedules, False, True),
    "/proxy/alarms/status": Endpoint(("alarms",), alarms.alarms_status, True),
    "/proxy/alarms/list": Endpoint(("alarms",), alarms.alarms_list),
    "/proxy/jobs/status": Endpoint(("jobs",), jobs.jobs_status, True),
    "/proxy/jobs/list": Endpoint(("jobs",), jobs.jobs_list),
    "/proxy/backups/status": Endpoint(("backups",), backups.backups_status, True),
    "/proxy/backups/list": Endpoint(("backups",), backups.backups_list),
    "/proxy/backups/schedules": Endpoint(("backups",), backups.backup_schedules),
    "/proxy/logs/list": Endpoint(("logs",), logs.logs_list),
    "/proxy/audit/list": Endpoint(("audit",), logs.audit_list),
}


class Aggregate:
    auth_required = True

    def __init__(self, collectors: Collectors, endpoint: Endpoint,
                 memo: ReplyMemo | None = None) -> None:
        self.collectors = collectors
        self.endpoint = endpoint
        self.memo = memo or ReplyMemo()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        ep = self.endpoint
        spec = listrequest.STATUS_FIELDS if ep.status else listrequest.LIST_FIELDS
        request = listrequest.parse(body_of(req), spec)
        acting = who(req)
        data = self.collectors.gather(
            acting, req.context.config, ep.kinds, force=request.force_update,
            force_clusters=request.force_update and ep.forces_clusters)
        kinds = tuple(dict.fromkeys(("clusters", *ep.kinds)))
        set_age(resp, data, kinds, self.collectors.clock())
        set_partial(resp, data, kinds)
        key = self.memo.key(req.path, request, acting, data, kinds)
        body = self.memo.get(key)
        if body is None:
            result: Any = ep.render(data, request.filters if ep.status else request)
            body = jsonfast.dumps(result)
            self.memo.put(key, body)
        resp.content_type = falcon.MEDIA_JSON
        resp.data = body

    on_post = on_get
