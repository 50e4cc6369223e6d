"""ccmgradm ha status | ha receive, promote, config history | rollback; and running write
verbs on the primary when this node is a secondary."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import time

from ccmgr.cli.common import CommandError, audit_change, open_services, read_secret, say
from ccmgr.config.history import load as history
from ccmgr.config.schema import SHARED_KEYS, Config
from ccmgr.errors import ConfigError
from ccmgr.ha.bundle import position
from ccmgr.ha.primary import known_primary
from ccmgr.ha.receiver import receive
from ccmgr.ha.replicator import Replicator
from ccmgr.ha.state import HAState
from ccmgr.ha.status import sync_report
from ccmgr.ha.transport import SshTransport, TransportError
from ccmgr.runtime import Services

# Verbs that change the shared config: on a secondary they run on the primary.
WRITE_COMMANDS = ("adduser", "setpassword", "dropuser", "addcontroller", "updatecontroller",
                  "dropcontroller", "seed", "config-rollback")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ha", help="high availability: status, and the replication receiver")
    ha_sub = p.add_subparsers(dest="ha_command", metavar="ACTION", required=True)
    s = ha_sub.add_parser("status", help="role, epoch, generation, hash, peers' sync and lag")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=ha_status)
    r = ha_sub.add_parser("receive", help="forced command of the replication SSH key")
    r.add_argument("--from", dest="sender", required=True, help="name of the sending node")
    r.set_defaults(func=ha_receive)

    p = sub.add_parser("promote", help="make this secondary the primary (raises the epoch)")
    p.set_defaults(func=promote)

    c = sub.add_parser("config", help="shared config history and rollback")
    c_sub = c.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    h = c_sub.add_parser("history", help="list the kept generations")
    h.set_defaults(func=config_history)
    rb = c_sub.add_parser("rollback", help="re-apply a kept generation as a new one")
    rb.add_argument("--to", type=int, help="generation to go back to (default: the newest kept)")
    rb.set_defaults(func=config_rollback, command="config-rollback")


# --- status ---------------------------------------------------------------------------------
def ha_status(args: argparse.Namespace) -> int:
    services = open_services(args)
    config = services.store.current()
    report = {**position(services), **sync_report(config, HAState(services.basedir))}
    peers = report.get("peers", [])
    received = report.get("following")
    if args.json:
        say(json.dumps(report, indent=2))
        return 0
    say(f"node {report['node']}: {report['role']}, epoch {report['epoch']}, generation "
        f"{report['generation']}, sha256 {report['sha256'][:16]}")
    if received:
        say(f"following {received}, last bundle {report['last_received_age_s']}s ago")
    for entry in peers:
        sync = "in sync" if entry["in_sync"] else "BEHIND"
        age = "never" if entry["last_sync_age_s"] is None else f"{entry['last_sync_age_s']}s ago"
        lag = "?" if entry["lag_generations"] is None else entry["lag_generations"]
        line = f"  peer {entry['name']} ({entry['address']}): {sync}, last sync {age}, lag {lag}"
        say(line + (f", error: {entry['error']}" if entry["error"] and not entry["in_sync"]
                    else ""))
    return 0


# --- receiver -------------------------------------------------------------------------------
def ha_receive(args: argparse.Namespace) -> int:
    services = Services.from_basedir(args.basedir)
    return receive(services, args.sender, run_admin=lambda request: run_forwarded(
        services, request))


def run_forwarded(services: Services, request: object) -> int:
    """Run a write verb sent by a secondary's ccmgradm, on this (primary) node."""
    from ccmgr.cli import command_function, dispatch  # here: avoids an import cycle

    if not isinstance(request, dict) or request.get("command") not in WRITE_COMMANDS or \
            not isinstance(request.get("args"), dict):
        print("ccmgradm: error: malformed forwarded request", file=sys.stderr)
        return 1
    if services.store.current().role == "secondary":
        print("ccmgradm: error: this node is not the primary any more; nothing was changed",
              file=sys.stderr)
        return 1
    ns = argparse.Namespace(**request["args"])
    ns.basedir, ns.debug, ns.forwarded = services.basedir, False, True
    ns.forwarded_secret = request.get("secret")
    ns.func = command_function(request["command"])
    if ns.func is None:
        return 1
    stdin = request.get("stdin")
    with contextlib.redirect_stdout(sys.stdout):
        if isinstance(stdin, str):
            sys.stdin = io.StringIO(stdin)
        return dispatch(ns)


# --- forwarding from a secondary ------------------------------------------------------------
def _secret_for(args: argparse.Namespace) -> str | None:
    command = args.command
    if command in ("adduser", "setpassword"):
        return read_secret(args, args.password)
    wants_password = args.password is not None or args.password_stdin or command == "addcontroller"
    if command in ("addcontroller", "updatecontroller") and not args.use_ldap and \
            args.username and wants_password:
        return read_secret(args, args.password, "Controller password", confirm=False)
    return None


def forward_to_primary(args: argparse.Namespace, services: Services) -> int:
    config = services.store.current()
    transport = SshTransport(services.basedir)
    primary = known_primary(config, HAState(services.basedir)) or _probe_primary(config,
                                                                                 transport)
    if primary is None:
        raise CommandError("this node is a secondary and no primary is known or reachable; "
                           "nothing was changed")
    secret = _secret_for(args)
    stdin = sys.stdin.read() if args.command == "seed" else None
    forwarded = {k: v for k, v in vars(args).items()
                 if k not in ("func", "basedir", "debug") and isinstance(
                     v, str | int | bool | list | type(None))}
    forwarded.update(password=None, password_stdin=False)
    request = {"command": args.command, "args": forwarded, "secret": secret, "stdin": stdin}
    say(f"Running on the primary {primary['name']} ({primary['address']}) ...", to_stderr=True)
    try:
        reply = transport.call(primary, "admin", json.dumps(request).encode(), timeout=90)
    except TransportError as exc:
        raise CommandError(f"the primary {primary['name']} ({primary['address']}) is "
                           f"unreachable: {exc}; nothing was changed") from None
    if reply.stdout:
        sys.stdout.write(reply.stdout)
    if reply.stderr:
        print(reply.stderr, file=sys.stderr)
    return reply.code


def _probe_primary(config: object, transport: SshTransport) -> dict | None:
    best = None
    for peer in config.peers:  # type: ignore[attr-defined]
        try:
            reply = transport.call(peer, "status", b"", timeout=5)
            answer = json.loads(reply.stdout)
        except (TransportError, ValueError):
            continue
        if answer.get("role") == "primary" and (best is None or answer["epoch"] > best[0]):
            best = (answer["epoch"], peer)
    return best[1] if best else None


# --- promotion ------------------------------------------------------------------------------
def promote(args: argparse.Namespace) -> int:
    services = open_services(args)
    config = services.store.current()
    if config.role == "primary":
        say(f"{config.node_name} is already the primary (epoch {config.epoch}).")
        return 0
    transport = SshTransport(services.basedir)
    epochs = [config.epoch]
    for peer in config.peers:
        with contextlib.suppress(TransportError, ValueError):
            epochs.append(int(json.loads(transport.call(peer, "status", b"", 5).stdout)["epoch"]))
    new_epoch = max(epochs) + 1

    def mutate(doc: dict) -> None:
        doc["role"], doc["epoch"] = "primary", new_epoch
    services.store.update(mutate, bump=False)
    audit_change("promote: %s is now the primary with epoch %d", config.node_name, new_epoch)
    say(f"{config.node_name} is now the primary (epoch {new_epoch}).")
    results = Replicator(services, transport).push_all()
    for name, result in sorted(results.items()):
        say(f"  pushed to {name}: " + ("ok" if result.get("ok") else
                                        f"not reached ({result.get('error')}); will retry"))
    return 0


# --- history and rollback -------------------------------------------------------------------
def _open_kept(args: argparse.Namespace) -> tuple[Services, Config | None, str]:
    """The services and the current config, or None and why the file is refused (history
    and rollback are how an operator gets out of a refused file)."""
    try:
        services = open_services(args)
        return services, services.store.current(), ""
    except ConfigError as exc:
        return Services.from_basedir(args.basedir), None, str(exc)


def config_history(args: argparse.Namespace) -> int:
    services, config, problem = _open_kept(args)
    if config is None:
        say(f"current: refused: {problem}")
    else:
        say(f"current: epoch {config.epoch} generation {config.generation} "
            f"sha256 {config.sha256[:16]}")
    for record in history(services.basedir):
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record["saved_at"]))
        say(f"kept:    epoch {record['epoch']} generation {record['generation']} "
            f"sha256 {record['sha256'][:16]} (kept {stamp})")
    return 0


def config_rollback(args: argparse.Namespace) -> int:
    services, config, problem = _open_kept(args)
    records = history(services.basedir)
    if args.to is not None:
        records = [r for r in records if r["generation"] == args.to]
    elif config is not None:  # the newest kept generation other than the current one
        records = [r for r in records
                   if (r["epoch"], r["generation"]) != (config.epoch, config.generation)]
    if not records:
        raise CommandError("no kept generation to roll back to" + (
            f" (generation {args.to} is not kept)" if args.to is not None else ""))
    target = records[-1]
    if config is None:
        return _restore(services, target, problem)

    def mutate(doc: dict) -> None:
        for key in SHARED_KEYS:
            doc.pop(key, None)
        doc.update(target["shared"])
    services.store.update(mutate)
    config = services.store.current()
    audit_change("config rollback to the content of generation %d (now generation %d)",
                 target["generation"], config.generation)
    say(f"Rolled back to the content of generation {target['generation']}; it is now "
        f"generation {config.generation}.")
    return 0


def _restore(services: Services, target: dict, problem: str) -> int:
    """The file is refused (cut short, empty, older than this node wrote): write the kept
    generation whole, node settings included, as a new generation."""
    if "local" not in target:
        raise CommandError(f"generation {target['generation']} was kept without this node's "
                           f"settings; fix {services.store.path} by hand ({problem})")
    config = services.store.restore({**target["local"], **target["shared"],
                                     "epoch": target["epoch"],
                                     "generation": target["generation"]})
    audit_change("config restored from generation %d over a refused file (now generation %d)",
                 target["generation"], config.generation)
    say(f"Restored generation {target['generation']} over the refused file; it is now "
        f"generation {config.generation}.")
    return 0
