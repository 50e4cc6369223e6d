"""A stand-in for the "clusters" payload contract that collectors.snapshot is written
against, until fetch.py provides it: the payload carries ``payload["reply"]`` (the reply
body as received) and ``fetch.clusters_payload(reply)`` rebuilds the payload from it.

``install()`` does nothing once fetch.py has ``clusters_payload``. A daemon under test gets
it through ``sitecustomize_dir`` (a ``sitecustomize`` put first on its PYTHONPATH).
"""

from __future__ import annotations

import json
import os
import textwrap
from datetime import datetime
from pathlib import Path
from typing import Any

from ccmgr.cmon.errors import BadReply
from ccmgr.collectors import fetch


class _Replay:
    """A client whose one reply is the decoded body (feeds the real shaping code)."""

    def __init__(self, doc: dict) -> None:
        self.doc = doc

    def call(self, module: str, body: dict, deadline: float) -> dict:
        return self.doc


def install() -> bool:
    """Patch fetch.py to the contract if it does not fulfil it yet; whether it patched."""
    if hasattr(fetch, "clusters_payload"):
        return False
    shape = fetch.fetch_clusters

    def clusters_payload(reply: bytes) -> dict:
        try:
            doc = json.loads(reply)
        except ValueError as exc:
            raise BadReply(f"not JSON: {exc}") from exc
        if not isinstance(doc, dict):
            raise BadReply("not a JSON object")
        ctx = fetch.FetchContext(deadline=0.0, now=datetime.now().astimezone())
        return {**shape(_Replay(doc), ctx), "reply": reply}  # type: ignore[arg-type]

    def fetch_clusters(client: Any, ctx: fetch.FetchContext) -> dict:
        doc = client.call("clusters", {"operation": "getAllClusterInfo", "with_hosts": True,
                                       "with_license_check": True, "with_tags": True},
                          ctx.deadline)
        return clusters_payload(json.dumps(doc).encode())

    fetch.clusters_payload = clusters_payload  # type: ignore[attr-defined]
    fetch.fetch_clusters = fetch_clusters
    fetch.FETCHERS["clusters"] = fetch_clusters
    return True


def sitecustomize_dir(where: Path) -> dict[str, str]:
    """The environment a daemon needs to run with the stand-in installed."""
    where.mkdir(parents=True, exist_ok=True)
    tests = str(Path(__file__).resolve().parent)
    (where / "sitecustomize.py").write_text(textwrap.dedent(f"""\
        import sys
        sys.path.insert(0, {tests!r})
        import snapshotkit
        snapshotkit.install()
        """))
    path = os.environ.get("PYTHONPATH", "")
    return {"PYTHONPATH": os.pathsep.join(p for p in (str(where), path) if p)}
