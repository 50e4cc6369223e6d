"""Controllers (``instances``): pure operations on the config document, shared by the CLI
and the /proxy/controllers endpoints. Messages are cmon-proxy's (spec §1.3, §6.2)."""

from __future__ import annotations

from urllib.parse import urlsplit

from ccmgr.xid import new_xid

EDITABLE = ("url", "name", "useldap", "username", "password", "frontend_url", "ca_file")


class InstanceError(Exception):
    """A refused controller operation; the message is shown as is."""


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


def find(doc: dict, key: str) -> dict | None:
    """By xid, then URL, then name."""
    for field in ("xid", "url", "name"):
        for instance in doc["instances"]:
            if key and instance.get(field) == key:
                return instance
    return None


def add(doc: dict, instance: dict) -> dict:
    record = {k: v for k, v in instance.items() if v not in (None, "", False)}
    record["url"] = record.get("url", "").strip()
    if any(i.get("url") == record["url"] for i in doc["instances"]):
        raise InstanceError("Controller already exists with this URL.")
    record.setdefault("name", default_name(record["url"]))
    if record.get("useldap"):
        for secret_field in ("username", "password", "keyfile"):
            record.pop(secret_field, None)
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
        for secret_field in ("username", "password", "keyfile"):
            instance.pop(secret_field, None)
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


def drop(doc: dict, key: str) -> dict:
    instance = find(doc, key)
    if instance is None:
        raise InstanceError("Controller not found")
    doc["instances"].remove(instance)
    if doc.get("single_controller") == instance.get("xid"):
        doc["single_controller"] = ""
    return instance


def public(instance: dict) -> dict:
    """A controller as replies show it: never the password."""
    return {k: v for k, v in instance.items() if k != "password"}
