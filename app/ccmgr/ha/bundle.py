"""Replication bundles: what a primary sends, and how a receiver checks and applies it.

A receiver rejects a bundle that is not newer (by ``(epoch, generation)``), whose sha256
does not match its content, that claims to come from the receiver itself or from another
sender than the SSH key says, or that fails validation. Applying is one locked, atomic
config write; the daemon notices the new file on its next request (no restart).
The store keeps the previous shared config in ``history/`` for ``ccmgradm config rollback``.
"""

from __future__ import annotations

import contextlib
import logging
import os

from ccmgr.config.schema import SHARED_KEYS, parse_config, shared_part, shared_sha256
from ccmgr.errors import ConfigError
from ccmgr.fields import type_ok
from ccmgr.fsutil import atomic_write
from ccmgr.passwords import verify_password
from ccmgr.runtime import Services

BUNDLE_VERSION = 1
log = logging.getLogger("ccmgr.ha")


class BundleRejected(Exception):
    """The receiver refuses a bundle; ``reason`` is a stable word for the sender."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def make_bundle(services: Services) -> dict:
    config = services.store.current()
    with open(services.secret.path, encoding="ascii") as handle:
        secret = handle.read().strip()
    return {
        "version": BUNDLE_VERSION,
        "from": config.node_name,
        "epoch": config.epoch,
        "generation": config.generation,
        "sha256": shared_sha256(config.doc),
        "shared": shared_part(config.doc),
        "secret": secret,
        "revocations": services.sessions.revocations.snapshot(),
    }


def _check_shape(bundle: object, sender: str, own_name: str) -> dict:
    if not isinstance(bundle, dict) or bundle.get("version") != BUNDLE_VERSION:
        raise BundleRejected("invalid", "not a ccmgr replication bundle of version 1")
    for key, kind in (("from", str), ("epoch", int), ("generation", int), ("sha256", str),
                      ("shared", dict), ("secret", str), ("revocations", dict)):
        if not type_ok(bundle.get(key), kind):
            raise BundleRejected("invalid", f"bundle field '{key}' missing or of the wrong type")
    if bundle["from"] == own_name:
        raise BundleRejected("self", "bundle comes from this node itself")
    if sender and bundle["from"] != sender:
        raise BundleRejected("sender", f"bundle claims to come from '{bundle['from']}' but "
                                       f"the key belongs to '{sender}'")
    unknown = set(bundle["shared"]) - set(SHARED_KEYS)
    if unknown:
        raise BundleRejected("invalid", f"bundle carries non-shared keys: {sorted(unknown)}")
    if shared_sha256(bundle["shared"]) != bundle["sha256"]:
        raise BundleRejected("hash", "sha256 of the bundle content does not match")
    if len(bundle["secret"]) < 32:
        raise BundleRejected("invalid", "session secret in the bundle is too short")
    return bundle


def apply_bundle(services: Services, bundle: object, sender: str = "") -> dict:
    """Check and apply; returns {"status": "applied"|"current", ...} or raises BundleRejected."""
    own = services.store.current()
    bundle = _check_shape(bundle, sender, own.node_name)
    try:
        parse_config(services.store.path, {**own.doc, **bundle["shared"]})
    except ConfigError as exc:
        raise BundleRejected("validation", f"bundle fails validation: {exc.detail} "
                                           f"({exc.key or 'document'})") from None

    def mutate(doc: dict) -> str:
        mine = (doc.get("epoch", 0), doc.get("generation", 0))
        theirs = (bundle["epoch"], bundle["generation"])
        if theirs == mine and bundle["sha256"] == shared_sha256(doc):
            return "current"
        if theirs <= mine:
            raise BundleRejected("stale", f"bundle {theirs} is not newer than this node's {mine}")
        for key in SHARED_KEYS:
            doc.pop(key, None)
        doc.update(bundle["shared"])
        doc["generation"], doc["epoch"] = bundle["generation"], bundle["epoch"]
        doc["role"] = "secondary"  # whoever sends us a newer bundle is the primary
        return "applied"

    status = services.store.update(mutate, bump=False)
    _apply_secret(services, bundle["secret"])
    services.sessions.revocations.merge(bundle["revocations"])
    if status == "applied":
        _forget_stale_admin_password(services)
        log.info("applied config bundle epoch %d generation %d from %s", bundle["epoch"],
                 bundle["generation"], bundle["from"])
    return {"status": status, **position(services)}


def position(services: Services) -> dict:
    config = services.store.current()
    return {"node": config.node_name, "role": config.role, "epoch": config.epoch,
            "generation": config.generation, "sha256": config.sha256}


def _apply_secret(services: Services, secret: str) -> None:
    try:
        with open(services.secret.path, encoding="ascii") as handle:
            if handle.read().strip() == secret:
                return
    except FileNotFoundError:
        pass
    atomic_write(services.secret.path, (secret + "\n").encode(), 0o600)


def _forget_stale_admin_password(services: Services) -> None:
    """A first-start password file is wrong once the primary's users replaced ours."""
    path = services.admin_password_file
    try:
        with open(path, encoding="utf-8") as handle:
            password = handle.read().strip()
    except FileNotFoundError:
        return
    admin = services.store.current().local_user("admin")
    if admin is None or not verify_password(password, admin.passwordhash):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
