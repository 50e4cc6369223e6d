"""ccmgradm: the admin CLI. ``main(argv) -> int``; one module per group of subcommands."""

from __future__ import annotations

import argparse
import logging
import sys

from ccmgr.cli import controllers, init, node, seed, users
from ccmgr.cli.common import BANNER, CommandError
from ccmgr.cli.status import FAILED, SUCCESS, USAGE
from ccmgr.errors import ConfigError
from ccmgr.runtime import BASEDIR_ENV, basedir_from

GROUPS = (users, controllers, init, node, seed)
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


def main(argv: list[str] | None = None) -> int:
    print(BANNER, file=sys.stderr, flush=True)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: usage errors exit 2, --help exits 0
        return int(exc.code or 0) if isinstance(exc.code, int) else USAGE
    args.basedir = basedir_from(args.basedir)
    try:
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


if __name__ == "__main__":
    sys.exit(main())
