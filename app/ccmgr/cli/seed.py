"""ccmgradm seed: make users and controllers match a JSON document read from stdin.

For configuration management: secrets arrive on stdin (never argv), and the reply says
whether anything changed, so a second run reports ``{"changed": false}``.
"""

from __future__ import annotations

import argparse
import json
import sys

from ccmgr import accounts, instances
from ccmgr.cli.common import CommandError, audit_change, open_services, reload_daemon, say
from ccmgr.instances import InstanceError
from ccmgr.users import UserError

USER_KEYS = {"username", "password", "email", "firstname", "lastname"}
CONTROLLER_KEYS = ("url", "name", "username", "password", "useldap", "frontend_url", "ca_file")


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
            extra = set(entry) - set(keys)
            if extra:
                raise CommandError(f"unknown keys in {section}: {', '.join(sorted(extra))}")
    return document


def seed(args: argparse.Namespace) -> int:
    document = _read_document()
    services = open_services(args)

    def mutate(doc: dict) -> dict:
        report: dict = {"users_added": [], "users_updated": [], "controllers_added": [],
                        "controllers_updated": []}
        new_passwords.clear()  # the store may run this again (a retried update)
        try:
            for wanted in document.get("users") or []:
                done, new_password = accounts.ensure(doc, wanted)
                if done:
                    report[f"users_{done}"].append(wanted.get("username", ""))
                if new_password:
                    new_passwords.append(wanted.get("username", ""))
            for wanted in document.get("controllers") or []:
                done = instances.ensure(doc, wanted, CONTROLLER_KEYS)
                if done:
                    report[f"controllers_{done}"].append(wanted.get("url", "").strip())
        except (UserError, InstanceError) as exc:
            raise CommandError(f"seed refused, nothing changed: {exc}") from None
        return report

    new_passwords: list[str] = []
    report = services.store.update(mutate)
    for username in new_passwords:
        accounts.password_changed(services, username)
    changed = any(report.values())
    if changed:
        audit_change("seed %s", json.dumps({k: v for k, v in report.items() if v}))
    say(json.dumps({"changed": changed, **report}))
    if changed:
        reload_daemon(services, services.store.current(), to_stderr=True)
    return 0
