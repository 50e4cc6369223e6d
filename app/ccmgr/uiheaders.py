"""Security headers for the web UI (docs/ui.md): a strict Content-Security-Policy (no
inline script or style, nothing from another origin, no framing), no MIME sniffing and
no referrer leaving the origin. Set on every reply: the API's JSON needs none of the
things the policy forbids."""

from __future__ import annotations

import falcon

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class UIHeaders:
    def process_response(self, req: falcon.Request, resp: falcon.Response,
                         resource: object, req_succeeded: bool) -> None:
        for name, value in HEADERS.items():
            resp.set_header(name, value)
