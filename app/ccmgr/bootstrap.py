"""First-start duties shared by the daemon and ``get_app``: secret, admin user, stable xids.

All of them are idempotent and race-free (they run under the store's lock), so several
gunicorn workers starting at once do each thing exactly once.
"""

from __future__ import annotations

import logging

import yaml

from ccmgr.fsutil import atomic_write
from ccmgr.passwords import random_password
from ccmgr.runtime import Services
from ccmgr.users import add_user

log = logging.getLogger("ccmgr.bootstrap")


def ensure_admin(services: Services) -> str | None:
    """With no users at all, create ``admin`` with a random password; return that password.

    The password goes to a 0600 file in the basedir (never to the log); the log says where.
    """
    def mutate(doc: dict) -> str | None:
        if doc["users"]:
            return None
        password = random_password()
        add_user(doc, "admin", password)
        atomic_write(services.admin_password_file, (password + "\n").encode(), 0o600)
        return password

    password = services.store.update(mutate)
    if password:
        log.info("Default 'admin' user has been created; its password is in %s "
                 "(readable by the service user only)", services.admin_password_file)
    else:
        log.info("Found %d users in configuration", len(services.store.current().local_users))
    return password


def persist_generated_xids(services: Services) -> None:
    """cmon-proxy's Upgrade step: controllers without an xid get one, written to the file."""
    try:
        with open(services.store.path, encoding="utf-8") as handle:
            raw = yaml.safe_load(handle) or {}
    except FileNotFoundError:
        return
    instances = raw.get("instances") or [] if isinstance(raw, dict) else []
    if any(isinstance(i, dict) and len(str(i.get("xid") or "")) < 4 for i in instances):
        services.store.update(lambda doc: None, force=True)
        log.info("Generated xids for controllers that had none")


def bootstrap(services: Services) -> str | None:
    config = services.store.current()  # raises ConfigError on an invalid file: refuse to start
    services.secret.ensure()
    if config.role == "secondary":
        return None  # a secondary's users and controllers come from the primary
    persist_generated_xids(services)
    return ensure_admin(services)
