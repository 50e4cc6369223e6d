"""ccmgradm addcontroller | updatecontroller | dropcontroller | listcontrollers."""

from __future__ import annotations

import argparse
import os

from ccmgr import registry
from ccmgr.cli.common import CommandError, open_services, read_secret, report_committed, say
from ccmgr.cmon import keyauth
from ccmgr.cmon.errors import AuthFailed
from ccmgr.instances import InstanceError

CLI = registry.Actor()


def _controller_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("url", metavar="URL", help="the controller's RPC v2 URL (host:port[/path])")
    p.add_argument("-l", "--use-ldap", action="store_true",
                   help="forward logins to this controller (no stored credentials)")
    p.add_argument("-u", "--username", help="static non-LDAP credentials")
    p.add_argument("-p", "--password", help="discouraged: visible in the process list")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.add_argument("-k", "--keyfile", help="log in with this RSA private key (PEM) instead of "
                   "a password; the ccmgr user must be able to read it, at the same path on "
                   "every node")
    p.add_argument("-n", "--name", help="controller name (default: host name from URL)")
    p.add_argument("-f", "--frontend-url", help="the ClusterControl web UI URL of this controller")
    p.add_argument("--ca-file", help="verify this controller's TLS certificate with this CA file")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("addcontroller", help="register a controller")
    _controller_flags(p)
    p.set_defaults(func=addcontroller)
    p = sub.add_parser("updatecontroller", help="change a registered controller")
    _controller_flags(p)
    p.set_defaults(func=updatecontroller)
    p = sub.add_parser("dropcontroller", help="remove a controller")
    p.add_argument("key", metavar="URLORNAME", help="the controller's xid, URL or name")
    p.set_defaults(func=dropcontroller)
    p = sub.add_parser("listcontrollers", help="list registered controllers")
    p.set_defaults(func=listcontrollers)


def _password(args: argparse.Namespace, *, required: bool) -> str | None:
    if args.use_ldap or not args.username:
        return None
    if args.password is None and not args.password_stdin and (args.keyfile or not required):
        return None
    return read_secret(args, args.password, "Controller password", confirm=False)


def _keyfile(args: argparse.Namespace) -> str | None:
    """The key file as an absolute path (the daemon does not share the CLI's working
    directory), checked to hold an RSA key now rather than at the next login."""
    if not args.keyfile or args.use_ldap:
        return None
    path = os.path.abspath(args.keyfile)
    try:
        keyauth.load_key(path)
    except AuthFailed as exc:
        raise CommandError(exc.message) from None
    return path


def _fields(args: argparse.Namespace, password: str | None) -> dict:
    return {"url": args.url, "name": args.name, "useldap": args.use_ldap,
            "username": args.username, "password": password, "keyfile": _keyfile(args),
            "frontend_url": args.frontend_url, "ca_file": args.ca_file}


def addcontroller(args: argparse.Namespace) -> int:
    if len(args.url.strip()) < 3:
        raise CommandError("Error, controller URL can not be empty.")
    services = open_services(args)
    fields = _fields(args, _password(args, required=True))
    try:
        record = registry.add(services, CLI, fields)
    except InstanceError as exc:
        message = str(exc)
        if message.startswith(("missing", "invalid")):
            message = f"Couldn't add controller: InvalidRequest: {message}"
        raise CommandError(message) from None
    report_committed(services, "addcontroller %s (xid %s)", record["url"], record["xid"])
    return 0


def updatecontroller(args: argparse.Namespace) -> int:
    services = open_services(args)
    fields = _fields(args, _password(args, required=False))
    try:
        record = registry.change(services, CLI, args.url, fields, use_ldap=args.use_ldap)
    except InstanceError as exc:
        raise CommandError(str(exc)) from None
    report_committed(services, "updatecontroller %s", record["url"])
    return 0


def dropcontroller(args: argparse.Namespace) -> int:
    if not args.key.strip():
        raise CommandError("URL or name can not be empty.")
    services = open_services(args)
    try:
        record = registry.remove(services, CLI, args.key)
    except InstanceError as exc:
        raise CommandError(str(exc)) from None
    report_committed(services, "dropcontroller %s", record["url"])
    return 0


def listcontrollers(args: argparse.Namespace) -> int:
    config = open_services(args).store.current()
    say("")
    say("Controllers from configuration:")
    for instance in config.controllers:
        line = f"* {instance.url}"
        if instance.name:
            line += f" [{instance.name}]"
        if instance.useldap:
            line += " *LDAP authentication*"
        elif instance.username:
            line += f" Static user: {instance.username}"
        if instance.frontend_url:
            line += f" Web-UI:{instance.frontend_url}"
        say(line)
    return 0
