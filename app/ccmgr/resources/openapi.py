"""GET /openapi.json (no auth): the OpenAPI 3 description of the whole HTTP API."""

from __future__ import annotations

import falcon

from ccmgr.openapi import document


class OpenAPI:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = document()
