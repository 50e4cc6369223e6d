"""ccmgradm seed: make users and controllers match a JSON document read from stdin.

For configuration management: secrets arrive on stdin (never argv), and the reply says
whether anything changed, so a second run reports ``{"changed": false}``.
"""

from __future__ import annotations

import argparse
import json
import sys

from ccmgr import instances, users
from ccmgr.cli.common import CommandError, audit_change, open_services, reload_daemon, say
from ccmgr.passwords import verify_password

USER_KEYS = {"username", "password", "email", "firstname", "lastname"}
CONTROLLER_KEYS = {"url", "name", "username", "password", "useldap", "frontend_url", "ca_file"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("seed", help="ensure users and controllers from JSON on stdin")
    p.add_argument("--json", action="store_true", help="print the result as JSON (default)")
    p.set_defaults(func=seed)


def _read_document() -> dict:
    try:
        document = json.load(sys.stdin)
    except ValueError as exc:
        raise CommandError(f"stdin is not a JSON document: {exc}") from None
    if not isinstance(document, dict):
        raise CommandError("stdin must hold a JSON object with 'users' and/or 'controllers'")
    unknown = set(document) - {"users", "controllers"}
    if unknown:
        raise CommandError(f"unknown keys in the seed document: {', '.join(sorted(unknown))}")
    for section, keys in (("users", USER_KEYS), ("controllers", CONTROLLER_KEYS)):
        entries = document.get(section) or []
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise CommandError(f"'{section}' must be a list of objects")
        for entry in entries:
            extra = set(entry) - keys
            if extra:
                raise CommandError(f"unknown keys in {section}: {', '.join(sorted(extra))}")
    return document


def _ensure_user(doc: dict, wanted: dict, report: dict) -> None:
    name, password = wanted.get("username", ""), wanted.get("password", "")
    current = users.find(doc, name)
    if current is None:
        users.add_user(doc, name, password, wanted.get("email", ""))
        report["users_added"].append(name)
        return
    touched = False
    if password and not verify_password(password, current.get("passwordhash")):
        users.set_password(doc, name, password)
        touched = True
    for key in ("email", "firstname", "lastname"):
        if key in wanted and current.get(key, "") != wanted[key]:
            current[key] = wanted[key]
            touched = True
    users.check_profile(current)
    if touched:
        report["users_updated"].append(name)


def _ensure_controller(doc: dict, wanted: dict, report: dict) -> None:
    url = wanted.get("url", "").strip()
    current = next((i for i in doc["instances"] if i.get("url") == url), None)
    if current is None:
        instances.add(doc, wanted)
        report["controllers_added"].append(url)
        return
    desired = dict(current)
    for key in CONTROLLER_KEYS - {"url"}:
        if key in wanted:
            value = wanted[key]
            if value in (None, "", False):
                desired.pop(key, None)
            else:
                desired[key] = value
    if desired.get("useldap"):
        for secret_field in ("username", "password", "keyfile"):
            desired.pop(secret_field, None)
    if desired != current:
        instances.validate(desired)
        current.clear()
        current.update(desired)
        report["controllers_updated"].append(url)


def seed(args: argparse.Namespace) -> int:
    document = _read_document()
    services = open_services(args)

    def mutate(doc: dict) -> dict:
        report: dict = {"users_added": [], "users_updated": [], "controllers_added": [],
                        "controllers_updated": []}
        try:
            for wanted in document.get("users") or []:
                _ensure_user(doc, wanted, report)
            for wanted in document.get("controllers") or []:
                _ensure_controller(doc, wanted, report)
        except (users.UserError, instances.InstanceError) as exc:
            raise CommandError(f"seed refused, nothing changed: {exc}") from None
        return report

    report = services.store.update(mutate)
    changed = any(report.values())
    if changed:
        audit_change("seed %s", json.dumps({k: v for k, v in report.items() if v}))
    say(json.dumps({"changed": changed, **report}))
    if changed:
        reload_daemon(services, services.store.current(), to_stderr=True)
    return 0
