"""Local users: the one write path for the API (/proxy/auth/*), ccmgradm and seeding.

Each operation takes the node's ``Services`` (the store and the sessions), does the
store's locked read-modify-write with the pure functions of ``ccmgr.users``, and then
every side effect the change implies, so no caller has to remember one:
a new password ends the user's sessions everywhere, and a new password of ``admin``
removes the first-start password file (it is wrong from then on). Refusals are
``users.UserError`` (a ``CcmgrError``: 400 with the envelope on the API, one error line
in ccmgradm). A role change needs no side effect: every request reads the user's role
from the current config, so it applies at once on every node the config reaches.
"""

from __future__ import annotations

import contextlib
import os

from ccmgr import apitokens, users
from ccmgr.passwords import hash_password, verify_password
from ccmgr.runtime import Services

ADMIN = "admin"
SEED_PROFILE_FIELDS = ("email", "firstname", "lastname")


def add(services: Services, username: str, password: str, email: str = "",
        role: str = users.ADMIN_ROLE) -> dict:
    return services.store.update(
        lambda doc: users.add_user(doc, username, password, email, role))


def set_role(services: Services, username: str, role: str) -> dict:
    """admin | viewer; demoting the last admin is refused (nobody could change anything)."""
    return services.store.update(
        lambda doc: users.public_user(users.set_role(doc, username, role)))


def set_password(services: Services, username: str, password: str, *,
                 email: str | None = None) -> dict:
    """The new password (and e-mail, ccmgradm's -e); returns the user as replies show it."""
    if not password:
        raise users.UserError("A non-empty password is required.")
    hashed = hash_password(password)  # PBKDF2 takes a while: not under the store's lock
    user = services.store.update(lambda doc: users.public_user(
        users.set_password(doc, username, password, email, hashed=hashed)))
    password_changed(services, username)
    return user


def password_changed(services: Services, username: str) -> None:
    """After any committed password change: sessions made with the old one end everywhere,
    and admin's first-start password file goes."""
    services.sessions.revoke_user(username)
    if username == ADMIN:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(services.admin_password_file)


def update_profile(services: Services, username: str, fields: dict) -> dict:
    """Replace the profile fields (the hash is kept); returns the user as replies show it."""
    return services.store.update(
        lambda doc: users.public_user(users.update_profile(doc, username, fields)))


def drop(services: Services, username: str) -> None:
    services.store.update(lambda doc: users.drop_user(doc, username))


def upgrade_hash(services: Services, username: str, stored: str, password: str) -> None:
    """Replace a cmon-proxy hash with a passlib one, unless it changed meanwhile (the
    password is the same, so no session ends)."""
    def mutate(doc: dict) -> None:
        for user in doc["users"]:
            if user.get("username") == username and user.get("passwordhash") == stored:
                user["passwordhash"] = hash_password(password)
    services.store.update(mutate)


def ensure(doc: dict, wanted: dict) -> tuple[str, bool]:
    """ccmgradm seed, inside its one locked update: add the user or bring its password and
    profile to ``wanted``. Returns ("added" | "updated" | "", whether the password
    changed); the caller runs ``password_changed`` once the update is committed."""
    name, password = wanted.get("username", ""), wanted.get("password", "")
    current = users.find(doc, name)
    if current is None:
        users.add_user(doc, name, password, wanted.get("email", ""))
        return "added", False
    new_password = bool(password) and not verify_password(password,
                                                          current.get("passwordhash"))
    if new_password:
        users.set_password(doc, name, password)
    touched = new_password
    for key in SEED_PROFILE_FIELDS:
        if key in wanted and current.get(key, "") != wanted[key]:
            current[key] = wanted[key]
            touched = True
    users.check_profile(current)
    return ("updated" if touched else ""), new_password


# -- API tokens (ccmgr.apitokens): shared config, so replicated like the users ------------
def create_token(services: Services, name: str, role: str, days: int | None) -> tuple[str, dict]:
    """Returns (the secret, to be shown once and never stored; the token as listed)."""
    held: list[str] = []

    def mutate(doc: dict) -> dict:
        held[:] = []  # the store may run this more than once
        secret, record = apitokens.create(doc, name, role, days)
        held.append(secret)
        return apitokens.public(record)

    record = services.store.update(mutate)
    return held[0], record


def revoke_token(services: Services, name: str) -> dict:
    """Effective on every node as soon as the config reaches it (no sessions to end)."""
    return services.store.update(lambda doc: apitokens.public(apitokens.revoke(doc, name)))
