"""The web UI from ``frontend_path``: real files with their types, SPA index fallback.

When ``frontend_path`` is left at its default (``/app``, cmon-proxy's) and that directory
does not exist, the dashboard built into the package (``ccmgr/webui``, app/ui) is served;
an operator's own ``frontend_path`` always wins.

Unknown API paths (``/proxy/``, ``/v2/``, ``/cmon/``, ``/single/``) get a JSON 404 instead.
Paths are resolved with symlinks and must stay inside the root; anything else gets the
index, so no request can read outside ``frontend_path``.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
from email.utils import formatdate

import falcon

from ccmgr.errors import NotFound, UnsupportedMethod

API_PREFIXES = ("/proxy/", "/v2/", "/cmon/", "/single/", "/v2multi/")
DEFAULT_FRONTEND = "/app"
BUILTIN_UI = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "webui")


def frontend_root(config_value: str, resolved: str) -> str:
    """The directory to serve: the configured one, or the built-in UI when the setting is
    still the default and that directory is absent."""
    if config_value == DEFAULT_FRONTEND and not os.path.isdir(resolved):
        return os.path.realpath(BUILTIN_UI)
    return os.path.realpath(resolved)


class Static:
    def __call__(self, req: falcon.Request, resp: falcon.Response, **_: str) -> None:
        if req.path.startswith(API_PREFIXES) or req.path in ("/proxy", "/v2"):
            raise NotFound(f"no such endpoint: {req.method} {req.path}")
        if req.method not in ("GET", "HEAD"):
            raise UnsupportedMethod(f"method {req.method} not allowed on {req.path}")
        config = req.context.config
        if req.path == "/ccmgr.js":
            settings = {"SINGLE_CONTROLLER": config.doc.get("single_controller", "")}
            resp.content_type = "application/javascript"
            resp.text = f"window.CCMGR = {json.dumps(settings)};"
            return
        root = frontend_root(config.doc.get("frontend_path", DEFAULT_FRONTEND),
                             config.frontend_path)
        if not os.path.isdir(root):
            raise NotFound("Not Found")
        path = _inside(root, req.path) or os.path.join(root, "index.html")
        if not os.path.isfile(path):
            raise NotFound("Not Found")
        _serve(req, resp, path)


def _inside(root: str, url_path: str) -> str | None:
    """The real file for ``url_path`` if it is a regular file under ``root``."""
    relative = url_path.lstrip("/")
    if not relative or "\x00" in relative:
        return None
    candidate = os.path.realpath(os.path.join(root, relative))
    if os.path.commonpath([root, candidate]) != root or not os.path.isfile(candidate):
        return None
    return candidate


def _serve(req: falcon.Request, resp: falcon.Response, path: str) -> None:
    st = os.stat(path)
    tag = hashlib.md5(f"{os.path.basename(path)}-{st.st_size}-{int(st.st_mtime)}".encode(),
                      usedforsecurity=False).hexdigest()
    resp.etag = tag
    resp.set_header("Last-Modified", formatdate(st.st_mtime, usegmt=True))
    is_index = os.path.basename(path) == "index.html"
    resp.cache_control = ["no-cache"] if is_index else ["public", "max-age=31536000"]
    resp.content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    if req.get_header("If-None-Match") == f'"{tag}"':
        resp.status = falcon.HTTP_304
        return
    resp.content_length = st.st_size
    if req.method == "GET":
        resp.stream = open(path, "rb")  # noqa: SIM115 - the WSGI server closes the stream
