"""Reply encoding and browser access (issue 13): gzip when the client accepts it, and CORS
for the origins in ``cors_origins`` (none by default).

cmon-proxy v2.2 gzips every API reply (gin's gzip, BestSpeed); list replies are megabytes,
so the same is done here, at level 1, for textual bodies of 1 KiB or more. Files served by
the UI from disk (streams) are left as they are. cmon-proxy reflected any Origin with
credentials, which lets every web page drive a logged-in browser; here only the configured
origins get CORS headers, and ``OPTIONS`` preflights from them are answered.
"""

from __future__ import annotations

import gzip

import falcon

MIN_GZIP = 1024
GZIP_LEVEL = 1
_TEXTUAL = ("application/json", "application/javascript", "text/")
ALLOW_METHODS = "GET,POST,PUT,PATCH,DELETE,HEAD"
ALLOW_HEADERS = "Content-Type,Authorization"
PREFLIGHT_MAX_AGE = "600"


def _accepts_gzip(req: falcon.Request) -> bool:
    for part in (req.get_header("Accept-Encoding") or "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


class Compress:
    """First in the middleware list, so its ``process_response`` runs last."""

    def process_response(self, req: falcon.Request, resp: falcon.Response,
                         resource: object, req_succeeded: bool) -> None:
        if resp.stream is not None or resp.get_header("Content-Encoding"):
            return
        if req.method == "HEAD" or not _accepts_gzip(req):
            return
        # No content type yet means falcon's default, JSON, is applied when rendering.
        if not (resp.content_type or falcon.MEDIA_JSON).startswith(_TEXTUAL):
            return
        body = resp.render_body()
        if not body or len(body) < MIN_GZIP:
            return
        resp.data = gzip.compress(body, GZIP_LEVEL)
        resp.set_header("Content-Encoding", "gzip")
        resp.append_header("Vary", "Accept-Encoding")


EXPOSE_HEADERS = "X-Ccmgr-Node, X-Ccmgr-Data-Age, X-Ccmgr-Controllers, X-Ccmgr-Failed, X-Request-Id"


class Cors:
    """After ``NodeHeaders`` (which loads the config the allow-list is read from)."""

    @staticmethod
    def _allowed(req: falcon.Request) -> str | None:
        origin = req.get_header("Origin")
        config = getattr(req.context, "config", None)
        if not origin or config is None:
            return None
        return origin if origin.rstrip("/") in config.settings.cors_origins else None

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if req.method != "OPTIONS" or self._allowed(req) is None:
            return
        resp.status = falcon.HTTP_200  # cmon-proxy's OPTIONS *any reply, without a body
        resp.set_header("Access-Control-Allow-Methods", ALLOW_METHODS)
        resp.set_header("Access-Control-Allow-Headers", ALLOW_HEADERS)
        resp.set_header("Access-Control-Max-Age", PREFLIGHT_MAX_AGE)
        resp.complete = True

    def process_response(self, req: falcon.Request, resp: falcon.Response,
                         resource: object, req_succeeded: bool) -> None:
        origin = self._allowed(req)
        if origin is None:
            return
        resp.set_header("Access-Control-Allow-Origin", origin)
        resp.set_header("Access-Control-Allow-Credentials", "true")
        # A UI on another origin may read the partial-result and tracing headers too.
        resp.set_header("Access-Control-Expose-Headers", EXPOSE_HEADERS)
        resp.append_header("Vary", "Origin")
