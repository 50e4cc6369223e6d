"""ccmgradm node set: the node-local keys (never replicated), for Ansible and operators.

Prints ``changed`` or ``unchanged`` (``--json``: ``{"changed": ...}``) so configuration
management can be idempotent without templating ccmgr.yaml, which the app owns.
"""

from __future__ import annotations

import argparse
import json

from ccmgr.cli.common import CommandError, audit_change, open_services, reload_daemon, say
from ccmgr.config.schema import ROLES

SETTABLE = ("node_name", "role", "bind_address", "port", "tls_cert", "tls_key", "logfile",
            "frontend_path", "trusted_proxies", "peers", "peer_ca_file")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("node", help="node-local settings")
    node_sub = p.add_subparsers(dest="node_command", metavar="ACTION", required=True)
    s = node_sub.add_parser("set", help="set node-local keys: KEY=VALUE ...",
                            description="Keys: " + ", ".join(SETTABLE) + ". trusted_proxies "
                            "takes a comma list, peers a JSON list of {name, address, port, "
                            "ssh_port, ssh_user}.")
    s.add_argument("assignments", nargs="+", metavar="KEY=VALUE")
    s.add_argument("--initial", action="store_true",
                   help="only set keys the file does not have yet (e.g. the HA role at "
                        "first deployment, so a later promotion is not undone)")
    s.add_argument("--json", action="store_true", help='print {"changed": true|false}')
    s.set_defaults(func=node_set)
    g = node_sub.add_parser("show", help="print the node-local keys as JSON")
    g.set_defaults(func=node_show)


def _parse(assignment: str) -> tuple[str, object]:
    key, sep, text = assignment.partition("=")
    if not sep:
        raise CommandError(f"expected KEY=VALUE, got '{assignment}'")
    if key not in SETTABLE:
        raise CommandError(f"'{key}' is not a node-local key (one of: {', '.join(SETTABLE)})")
    if key == "port":
        if not text.isdigit() or not 0 < int(text) < 65536:
            raise CommandError(f"port must be 1-65535, got '{text}'")
        return key, int(text)
    if key == "role" and text not in ROLES:
        raise CommandError(f"role must be one of {', '.join(ROLES)}, got '{text}'")
    if key == "trusted_proxies":
        return key, [p.strip() for p in text.split(",") if p.strip()]
    if key == "peers":
        try:
            peers = json.loads(text)
        except ValueError as exc:
            raise CommandError(f"peers must be a JSON list: {exc}") from None
        if not isinstance(peers, list):
            raise CommandError("peers must be a JSON list of {name, address, port}")
        return key, peers
    return key, text


def node_set(args: argparse.Namespace) -> int:
    wanted = dict(_parse(a) for a in args.assignments)
    services = open_services(args)

    def mutate(doc: dict) -> bool:
        changed = False
        for key, value in wanted.items():
            if args.initial and key in doc and doc[key] not in (None, "", []):
                continue
            if doc.get(key) != value:
                if key == "role" and value == "secondary":
                    # Joining as a secondary: the shared config held here is not authoritative;
                    # generation 0 makes the primary's first bundle win.
                    doc["generation"], doc["epoch"] = 0, 0
                doc[key] = value
                changed = True
        return changed

    # Node-local keys are not part of the shared config: no generation bump.
    changed = services.store.update(mutate, bump=False)
    if changed:
        audit_change("node set %s", ", ".join(sorted(wanted)))
    if args.json:
        say(json.dumps({"changed": changed}))
    else:
        say("changed" if changed else "unchanged")
    if changed:
        reload_daemon(services, services.store.current(), to_stderr=True)
    return 0


def node_show(args: argparse.Namespace) -> int:
    config = open_services(args).store.current()
    keys = (*SETTABLE, "epoch")
    say(json.dumps({k: config.doc.get(k) for k in keys if k in config.doc}, indent=2))
    return 0
