"""ccmgradm token create | list | revoke: API tokens for automation (``Authorization:
Bearer``). The secret is printed once, on stdout, and only its hash is stored."""

from __future__ import annotations

import argparse
import time

from ccmgr import accounts
from ccmgr.cli.common import CommandError, audit_change, open_services, reload_daemon, say
from ccmgr.users import ROLES, UserError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("token", help="API tokens for scripts (Authorization: Bearer)")
    actions = p.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    c = actions.add_parser("create", help="create a token and print it once")
    c.add_argument("name", help="what the token is for (letters, digits, . _ -)")
    c.add_argument("--role", choices=ROLES, required=True,
                   help="viewer: read only; admin: everything a local admin may do")
    c.add_argument("--expires", type=int, metavar="DAYS", help="valid for DAYS days "
                   "(default: until revoked)")
    actions.add_parser("list", help="list the tokens (never their secrets)")
    r = actions.add_parser("revoke", help="revoke a token on every node")
    r.add_argument("name")
    p.set_defaults(func=token)


def _when(stamp: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(stamp)) if stamp else "never"


def token(args: argparse.Namespace) -> int:
    services = open_services(args)
    action = args.token_command
    if action == "list":
        print()
        print("API tokens from configuration:")
        for record in services.store.current().doc.get("tokens") or ():
            print(f"* {record['name']} [{record['role']}] created {_when(record['created'])}, "
                  f"expires {_when(record.get('expires') or 0)}")
        return 0
    try:
        if action == "create":
            secret, record = accounts.create_token(services, args.name, args.role,
                                                   args.expires)
        else:
            record = accounts.revoke_token(services, args.name)
    except UserError as exc:
        raise CommandError(str(exc)) from None
    audit_change(f"token {action} '%s' ({record['role']})", record["name"])  # never the secret
    if action == "create":
        say(f"Token '{record['name']}' ({record['role']}, expires "
            f"{_when(record['expires'])}); shown only now, store it safely:", to_stderr=True)
        print(secret, flush=True)
    else:
        say(f"Token '{record['name']}' revoked.", to_stderr=True)
    reload_daemon(services, services.store.current(), to_stderr=True)
    return 0
