"""``ccmgradm ha receive --from NAME``: the forced command of a peer's replication key.

sshd runs it for every connection made with that key, whatever the client asked; the
request is in SSH_ORIGINAL_COMMAND and only these verbs exist:
  push    apply the replication bundle on stdin
  admin   run one ccmgradm write verb forwarded from a secondary (JSON on stdin)
  status  print this node's position
Anything else is refused, so the key can never open a shell or read a file.
"""

from __future__ import annotations

import json
import os
import sys
import time

from ccmgr.ha.bundle import BundleRejected, apply_bundle, position
from ccmgr.ha.state import HAState
from ccmgr.logsetup import audit
from ccmgr.runtime import Services

MAX_INPUT = 8 * 1024 * 1024


def receive(services: Services, sender: str, run_admin: object = None) -> int:
    verb = os.environ.get("SSH_ORIGINAL_COMMAND", "").strip()
    if verb == "status":
        print(json.dumps(position(services)))
        return 0
    if verb == "push":
        return _push(services, sender)
    if verb == "admin" and callable(run_admin):
        return run_admin(_read_json())
    audit("refused replication request %r from %s", verb[:80], sender)
    print(f"ccmgr replication: refused request {verb[:80]!r}; allowed: push, admin, status",
          file=sys.stderr)
    return 1


def _read_json() -> object:
    data = sys.stdin.buffer.read(MAX_INPUT + 1)
    if len(data) > MAX_INPUT:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


def _push(services: Services, sender: str) -> int:
    bundle = _read_json()
    try:
        result = apply_bundle(services, bundle, sender)
        HAState(services.basedir).update(lambda data: data.__setitem__("received", {
            "from": sender, "epoch": result["epoch"], "generation": result["generation"],
            "at": time.time()}))
    except BundleRejected as exc:
        audit("rejected config bundle from %s: %s", sender, exc)
        print(json.dumps({"status": "rejected", "reason": exc.reason, "message": str(exc),
                          **position(services), **_revocations(services)}))
        return 1
    print(json.dumps({**result, **_revocations(services)}))
    return 0


def _revocations(services: Services) -> dict:
    """This node's revocations go back with every answer: a logout made here while the
    primary was unreachable (revoked locally only) reaches the primary with its next push
    (at the latest its heartbeat), and from there every other node."""
    return {"revocations": services.sessions.revocations.snapshot()}
