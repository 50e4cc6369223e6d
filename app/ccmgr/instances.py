"""Controllers (``instances``): pure operations on the config document. ``ccmgr.registry``
wraps them in the store's locked update for the API, ccmgradm and seeding. Messages are
cmon-proxy's (spec §1.3, §6.2)."""

from __future__ import annotations

from urllib.parse import urlsplit

from ccmgr.errors import CcmgrError
from ccmgr.xid import new_xid

SECRET_FIELDS = ("username", "password", "keyfile")  # an LDAP controller carries none


class InstanceError(CcmgrError):
    """A refused controller operation; the message is shown as is (400 on the API)."""

    status = "InvalidRequest"


class DuplicateURL(InstanceError):
    """Another controller has this URL (cmon-proxy answers TryAgain, 425)."""

    status = "TryAgain"


class UnknownController(InstanceError):
    status = "ObjectNotFound"


def default_name(url: str) -> str:
    """The host part of a controller URL (cmon-proxy meant this, its parser could not)."""
    try:
        return urlsplit(url if "://" in url else f"https://{url}").hostname or ""
    except ValueError:
        return ""


def validate(instance: dict) -> None:
    url = instance.get("url", "").strip()
    if len(url) < 3:
        raise InstanceError("invalid controller, missing URL")
    if any(c.isspace() for c in url):
        raise InstanceError("invalid controller, the URL contains white space")
    if url.startswith("http://"):
        raise InstanceError("invalid controller, cmon RPC v2 needs https (give host:port)")
    if instance.get("useldap") or instance.get("use_cmon_auth"):
        return
    if not instance.get("username"):
        raise InstanceError("missing username")
    if not instance.get("password") and not instance.get("keyfile"):
        raise InstanceError("missing password or keyfile")


def cleaned(instance: dict) -> dict:
    """A controller as stored: no empty fields, the URL stripped, no secrets when LDAP."""
    record = {k: v for k, v in instance.items() if v not in (None, "", False)}
    record["url"] = record.get("url", "").strip()
    if record.get("useldap"):
        drop_secrets(record)
    return record


def drop_secrets(record: dict) -> None:
    for secret_field in SECRET_FIELDS:
        record.pop(secret_field, None)


def url_taken(doc: dict, url: str, except_xid: str = "") -> bool:
    return any(i.get("url") == url.strip() and i.get("xid") != except_xid
               for i in doc["instances"])


def find(doc: dict, key: str, fields: tuple[str, ...] = ("xid", "url", "name")) -> dict | None:
    """By xid, then URL, then name (or the ``fields`` given)."""
    for field in fields:
        for instance in doc["instances"]:
            if key and instance.get(field) == key:
                return instance
    return None


def add(doc: dict, instance: dict) -> dict:
    record = cleaned(instance)
    if url_taken(doc, record["url"]):
        raise DuplicateURL("Controller already exists with this URL.")
    record.setdefault("name", default_name(record["url"]))
    validate(record)
    record = {"xid": new_xid(), **{k: v for k, v in record.items() if k != "xid"}}
    doc["instances"].append(record)
    return record


def update(doc: dict, key: str, changes: dict, *, use_ldap: bool) -> dict:
    """ccmgradm updatecontroller: LDAP follows the flag; credentials replaced when given."""
    instance = find(doc, key)
    if instance is None:
        raise InstanceError("Couldn't find controller.")
    if len(instance.get("xid", "")) < 4:
        instance["xid"] = new_xid()
    for field in ("name", "frontend_url", "ca_file"):
        if changes.get(field):
            instance[field] = changes[field]
    if not instance.get("name"):
        instance["name"] = default_name(instance["url"])
    if use_ldap:
        instance["useldap"] = True
        drop_secrets(instance)
    else:
        instance.pop("useldap", None)
        for field in ("username", "password", "keyfile"):
            if changes.get(field):
                instance[field] = changes[field]
        if changes.get("keyfile") and not changes.get("password"):
            instance.pop("password", None)  # a new key replaces the password login
        if not instance.get("username") or not (instance.get("password")
                                                or instance.get("keyfile")):
            raise InstanceError("Controller credentials can not be empty (for non LDAP logins).")
    validate(instance)
    return instance


def replace(doc: dict, xid: str, instance: dict) -> dict:
    """/proxy/controllers/update: the record sent replaces the stored one. Replies never
    show passwords, so a client cannot resend one: the old secret is kept when no new one
    comes and the username is unchanged."""
    index = next((n for n, i in enumerate(doc["instances"]) if i.get("xid") == xid), None)
    if index is None:
        raise UnknownController("Controller not found")
    old = doc["instances"][index]
    record = cleaned(instance)
    if (not record.get("useldap") and "password" not in record and "keyfile" not in record
            and record.get("username") == old.get("username")):
        for secret in ("password", "keyfile"):
            if old.get(secret):
                record[secret] = old[secret]
    record.setdefault("name", default_name(record["url"]))
    validate(record)
    if url_taken(doc, record["url"], except_xid=xid):
        raise DuplicateURL("duplicated URL")
    doc["instances"][index] = {"xid": xid, **{k: v for k, v in record.items() if k != "xid"}}
    return doc["instances"][index]


def ensure(doc: dict, wanted: dict, fields: tuple[str, ...]) -> str:
    """ccmgradm seed: add the controller with this URL, or set its ``fields`` as given
    (an empty value removes one). Returns "added", "updated" or ""."""
    url = wanted.get("url", "").strip()
    current = next((i for i in doc["instances"] if i.get("url") == url), None)
    if current is None:
        add(doc, wanted)
        return "added"
    desired = dict(current)
    for key in fields:
        if key in wanted and key != "url":
            value = wanted[key]
            if value in (None, "", False):
                desired.pop(key, None)
            else:
                desired[key] = value
    if desired.get("useldap"):
        drop_secrets(desired)
    if desired == current:
        return ""
    validate(desired)
    current.clear()
    current.update(desired)
    return "updated"


def drop(doc: dict, key: str, fields: tuple[str, ...] = ("xid", "url", "name")) -> dict:
    instance = find(doc, key, fields)
    if instance is None:
        raise UnknownController("Controller not found")
    doc["instances"].remove(instance)
    if doc.get("single_controller") == instance.get("xid"):
        doc["single_controller"] = ""
    return instance


def public(instance: dict) -> dict:
    """A controller as replies show it: never the password."""
    return {k: v for k, v in instance.items() if k != "password"}
