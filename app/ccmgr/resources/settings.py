"""GET|POST /proxy/config: the collection windows a UI shows (spec §2.8.2). Authenticated,
as from cmon-proxy v2.3 (v2.2 left it open)."""

from __future__ import annotations

import falcon


class ProxyConfig:
    auth_required = True

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        settings = req.context.config.settings
        resp.media = {"config": {"fetch_backups_days": settings.fetch_backups_days,
                                 "fetch_jobs_hours": settings.fetch_jobs_hours}}

    on_post = on_get
