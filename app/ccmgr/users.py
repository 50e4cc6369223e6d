"""Local users: pure operations on the config document (``ccmgr.accounts`` runs them in the
store's locked update and does the side effects)."""

from __future__ import annotations

import re
import secrets
from dataclasses import fields

from ccmgr.config.model import ADMIN_ROLE, VIEWER_ROLE, User
from ccmgr.errors import ENVELOPE, CcmgrError
from ccmgr.passwords import hash_password

# Fields a user may set on itself through /proxy/auth/update (spec §1.4, minus the hash).
PROFILE_FIELDS = ("username", "email", "firstname", "lastname")
USER_PROFILE_TYPES = {name: str for name in PROFILE_FIELDS}
# Set once when a user is added and never shown: sessions carry it, so a user dropped and
# added again under the same name does not get the old user's sessions (cmon-proxy's
# files have none; their users' sessions carry none either).
ACCOUNT_FIELD = "account_id"
# Fields clients may echo back unchanged from /auth/check; accepted, never stored.
ECHO_FIELDS = ("ldap", "cmon", "xid", "admin", "suspended", "groups", "role")
# Roles (issue 13, constants in config.model): "admin" may change everything, "viewer"
# reads aggregates and status. A user without a role (every cmon-proxy file) is an admin.
ROLES = (ADMIN_ROLE, VIEWER_ROLE)
_HIDDEN = ("passwordhash", ACCOUNT_FIELD)
_USERNAME = re.compile(r"^[A-Za-z0-9._@+-]{1,64}$")
MAX_FIELD = 256


class UserError(CcmgrError):
    """A refused user operation; the message is shown to the operator as is."""

    status = "InvalidRequest"
    shape = ENVELOPE


def public_user(user: User | dict) -> dict:
    """The user as API replies show it: its ``User`` fields but never the hash, no empty
    fields, the role always (so a UI can hide what a viewer cannot do). A stored record
    (the write path's) is shown as its ``User``, so both paths reply alike."""
    user = User.parse(user)
    shown = {f.name: getattr(user, f.name) for f in fields(User) if f.name not in _HIDDEN}
    shown = {k: v for k, v in shown.items() if v not in ("", None, False)}
    shown["role"] = user.effective_role
    return shown


def role_of(user: dict | None) -> str:
    """The role of a stored user record (the write path's documents)."""
    return (user or {}).get("role") or ADMIN_ROLE


def check_role(role: str) -> None:
    if role not in ROLES:
        raise UserError(f"invalid role '{role}' (admin or viewer)")


def _is_last_admin(doc: dict, user: dict) -> bool:
    admins = [u for u in doc["users"] if role_of(u) == ADMIN_ROLE]
    return role_of(user) == ADMIN_ROLE and admins == [user]


def check_username(username: str) -> None:
    if not _USERNAME.match(username or ""):
        raise UserError("invalid username (1-64 letters, digits and . _ @ + -)")


def check_profile(user: dict) -> None:
    check_username(user.get("username", ""))
    email = user.get("email", "")
    if email and "@" not in email:
        raise UserError("invalid e-mail")
    for key in ("email", "firstname", "lastname"):
        if len(user.get(key, "")) > MAX_FIELD:
            raise UserError(f"{key} is longer than {MAX_FIELD} characters")


def find(doc: dict, username: str) -> dict | None:
    return next((u for u in doc["users"] if u.get("username") == username), None)


def add_user(doc: dict, username: str, password: str, email: str = "",
             role: str = ADMIN_ROLE) -> dict:
    check_role(role)
    if find(doc, username) is not None:
        raise UserError("User already exists.")
    if not password:
        raise UserError("A non-empty password is required.")
    user = {"username": username}
    if email:
        user["email"] = email
    check_profile(user)
    user["passwordhash"] = hash_password(password)
    user[ACCOUNT_FIELD] = secrets.token_hex(8)
    user["role"] = role
    doc["users"].append(user)
    return user


def set_password(doc: dict, username: str, password: str, email: str | None = None, *,
                 hashed: str | None = None) -> dict:
    """``hashed``: the hash of ``password`` made before the store's lock was taken."""
    user = find(doc, username)
    if user is None:
        raise UserError("User not found.")
    if not password:
        raise UserError("A non-empty password is required.")
    if email is not None and len(email) > 3:  # cmon-proxy replaces it only when longer than 3
        user["email"] = email
        check_profile(user)
    user["passwordhash"] = hashed or hash_password(password)
    return user


def drop_user(doc: dict, username: str) -> None:
    user = find(doc, username)
    if user is None:
        raise UserError("Removing user has failed: user not found")
    if _is_last_admin(doc, user):
        raise UserError(f"Removing user has failed: '{username}' is the last admin "
                        "(add or promote another admin first)")
    doc["users"].remove(user)


def set_role(doc: dict, username: str, role: str) -> dict:
    user = find(doc, username)
    if user is None:
        raise UserError("User not found.")
    check_role(role)
    if role != ADMIN_ROLE and _is_last_admin(doc, user):
        raise UserError(f"'{username}' is the last admin and cannot become a {role} "
                        "(add or promote another admin first)")
    user["role"] = role
    return user


def update_profile(doc: dict, username: str, fields: dict) -> dict:
    """Replace the profile fields of ``username``; the hash is kept (spec §2.4.4)."""
    user = find(doc, username)
    if user is None:
        raise UserError("failed to update user: user not found")
    updated = {"username": username}
    updated.update({k: fields[k] for k in PROFILE_FIELDS[1:] if fields.get(k)})
    check_profile(updated)
    updated["passwordhash"] = user.get("passwordhash", "")
    for kept in (ACCOUNT_FIELD, "role"):
        if user.get(kept):
            updated[kept] = user[kept]
    user.clear()
    user.update(updated)
    return user
