"""GET /metrics: the Prometheus text format, for the node-local token or a session."""

from __future__ import annotations

from collections.abc import Callable

import falcon
from prometheus_client import CONTENT_TYPE_LATEST

from ccmgr.errors import AuthRequired
from ccmgr.metrics.token import MetricsToken


class Metrics:
    # The metrics token is not an API token: BearerAuth leaves an unknown one to us.
    other_bearer_tokens = True

    def __init__(self, render: Callable[[], bytes], token: MetricsToken) -> None:
        self.render = render
        self.token = token

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        if req.context.session is None and not self.token.matches(req.get_header(
                "Authorization")):
            raise AuthRequired("the metrics token (Authorization: Bearer) or a session "
                               "is required")
        resp.data = self.render()
        resp.content_type = CONTENT_TYPE_LATEST
        resp.set_header("Cache-Control", "no-store")
