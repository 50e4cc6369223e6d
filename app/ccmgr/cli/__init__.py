"""ccmgradm: the admin CLI. ``main(argv) -> int``; one module per group of subcommands."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from ccmgr.cli import controllers, ha, init, node, seed, users
from ccmgr.cli.common import BANNER, CommandError, open_services
from ccmgr.cli.status import FAILED, SUCCESS, USAGE
from ccmgr.errors import ConfigError
from ccmgr.runtime import BASEDIR_ENV, basedir_from

GROUPS = (users, controllers, init, node, seed, ha)
log = logging.getLogger("ccmgr.cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ccmgradm", description="ccmgr admin CLI")
    parser.add_argument("--basedir", help=f"directory of ccmgr.yaml (default: ${BASEDIR_ENV} or "
                                          "/var/lib/ccmgr)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in GROUPS:
        group.register(sub)
    return parser


def command_function(command: str) -> Callable | None:
    """The function behind a top-level write command (for verbs forwarded to the primary)."""
    if command == "config-rollback":
        return ha.config_rollback
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    parser = sub.choices.get(command)
    return parser.get_default("func") if parser else None


def dispatch(args: argparse.Namespace) -> int:
    """Run one parsed command; every failure becomes one line on stderr and an exit code."""
    try:
        if args.command in ha.WRITE_COMMANDS and not getattr(args, "forwarded", False):
            try:
                services = open_services(args)
            except ConfigError:
                if args.command != "config-rollback":  # which restores a refused file
                    raise
            else:
                if services.store.current().role == "secondary":
                    return ha.forward_to_primary(args, services)
        return args.func(args) or SUCCESS
    except (CommandError, ConfigError) as exc:
        print(f"ccmgradm: error: {exc}", file=sys.stderr)
        return FAILED
    except PermissionError as exc:
        print(f"ccmgradm: error: permission denied: {exc.filename} (run as root or the "
              "ccmgr user)", file=sys.stderr)
        return FAILED
    except OSError as exc:
        print(f"ccmgradm: error: {exc.filename or ''}: {exc.strerror}", file=sys.stderr)
        return FAILED
    except KeyboardInterrupt:
        print("ccmgradm: interrupted; nothing was changed", file=sys.stderr)
        return FAILED
    except Exception as exc:
        if args.debug:
            raise
        print(f"ccmgradm: error: unexpected {exc.__class__.__name__}: {exc} (use --debug for "
              "details)", file=sys.stderr)
        return FAILED


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "receive" not in argv[:4]:  # the SSH receiver's stdout is a protocol, keep it clean
        print(BANNER, file=sys.stderr, flush=True)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: usage errors exit 2, --help exits 0
        return int(exc.code or 0) if isinstance(exc.code, int) else USAGE
    args.basedir = basedir_from(args.basedir)
    return dispatch(args)


if __name__ == "__main__":
    sys.exit(main())
