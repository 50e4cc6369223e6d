"""ccmgradm adduser | setpassword | dropuser | setrole | listusers."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from ccmgr import accounts
from ccmgr.cli.common import CommandError, open_services, read_secret, report_committed
from ccmgr.runtime import Services
from ccmgr.users import ROLES, UserError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("adduser", help="add a local user")
    p.add_argument("username")
    p.add_argument("password", nargs="?", help="discouraged: visible in the process list")
    p.add_argument("-e", "--email", default="")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.add_argument("--role", choices=ROLES, default="admin",
                   help="admin (default) may change everything; viewer may only read")
    p.set_defaults(func=adduser)

    p = sub.add_parser("setpassword", help="set a local user's password (and e-mail)")
    p.add_argument("username")
    p.add_argument("password", nargs="?", help="discouraged: visible in the process list")
    p.add_argument("-e", "--email")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.set_defaults(func=setpassword)

    p = sub.add_parser("dropuser", help="remove a local user (never the last admin)")
    p.add_argument("username")
    p.set_defaults(func=dropuser)

    p = sub.add_parser("setrole", help="make a local user an admin or a viewer (read-only)")
    p.add_argument("username")
    p.add_argument("role", choices=ROLES)
    p.set_defaults(func=setrole)

    p = sub.add_parser("listusers", help="list the local users and their roles")
    p.set_defaults(func=listusers)


def _apply(args: argparse.Namespace, change: Callable[[Services], object], what: str) -> None:
    services = open_services(args)
    try:
        change(services)
    except UserError as exc:
        raise CommandError(str(exc)) from None
    report_committed(services, what, args.username)


def adduser(args: argparse.Namespace) -> int:
    password = read_secret(args, args.password)
    if not password:
        raise CommandError("A non-empty password is required.")
    try:
        role = getattr(args, "role", "admin")  # a forwarded call from an older node has none
        _apply(args, lambda s: accounts.add(s, args.username, password, args.email, role),
               f"adduser '%s' (role {role})")
    except CommandError as exc:
        if str(exc) == "invalid e-mail":
            raise CommandError("User add failed: invalid e-mail") from None
        raise
    return 0


def setpassword(args: argparse.Namespace) -> int:
    services = open_services(args)
    if services.store.current().local_user(args.username) is None:
        raise CommandError("User not found.")
    password = read_secret(args, args.password)
    if not password:
        raise CommandError("A non-empty password is required.")
    # Sessions made with the old password end everywhere (accounts.set_password).
    _apply(args, lambda s: accounts.set_password(s, args.username, password, email=args.email),
           "setpassword '%s'")
    return 0


def dropuser(args: argparse.Namespace) -> int:
    _apply(args, lambda s: accounts.drop(s, args.username), "dropuser '%s'")
    return 0


def setrole(args: argparse.Namespace) -> int:
    _apply(args, lambda s: accounts.set_role(s, args.username, args.role),
           f"setrole '%s' {args.role}")
    return 0


def listusers(args: argparse.Namespace) -> int:
    config = open_services(args).store.current()
    print()
    print("Users from configuration:")
    for user in config.local_users:
        line = f"* {user.username} [{user.effective_role}]"
        if user.email:
            line += f" {user.email}"
        print(line)
    return 0
