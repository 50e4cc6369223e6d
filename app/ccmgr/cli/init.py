"""ccmgradm init: first configuration of a node (spec §6.3, with its bugs fixed)."""

from __future__ import annotations

import argparse
import configparser
import os

from ccmgr import instances
from ccmgr.cli.common import CommandError, audit_change, open_services, say


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="initialise the configuration")
    p.add_argument("--local-cmon", action="store_true", help="register the local controller")
    p.add_argument("-p", "--port", type=int, help="HTTPS port of ccmgr")
    p.add_argument("-f", "--frontend-path", help="directory of the web UI files")
    p.add_argument("-c", "--cmon-config", help="cmon.cnf to read the rpc_key from")
    p.add_argument("-u", "--cmon-url", default="127.0.0.1:9501", help="local controller URL")
    p.add_argument("-s", "--cmon-ssh-url", default="127.0.0.1:9511", help="cmon-ssh host:port")
    p.add_argument("--enable-mcc", action="store_true",
                   help="multi-controller mode (do not pin the single controller)")
    p.set_defaults(func=init)


def _rpc_key(path: str) -> str:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_string("[cmon]\n" + handle.read())
    except (OSError, configparser.Error) as exc:
        raise CommandError(f"Error loading cmon.cnf file: {exc}") from None
    key = parser["cmon"].get("rpc_key", "").strip().strip("'\"")
    if not key:
        raise CommandError("Error, rpc_key not found in .cnf file.")
    return key


CMON_API_OLD, CMON_API_NEW = "CMON_API_URL: '/api/v2'", "CMON_API_URL: '/'"
# What a UI without a config.js gets: cmon-proxy's API and the pass-through at the root.
DEFAULT_CONFIG_JS = "window.FEAS_ENV = {\n  API_URL: '/proxy',\n  CMON_API_URL: '/',\n};\n"


def write_frontend_config(frontend_path: str) -> None:
    """``<frontend_path>/config.js`` as cmon-proxy's init edits it (spec §6.3 step 3): the
    first ``CMON_API_URL: '/api/v2'`` becomes ``'/'``, the file mode kept; a missing file
    is created. Failures are reported and not fatal, as there."""
    path = os.path.join(frontend_path, "config.js")
    try:
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
            if CMON_API_OLD not in text:
                return
            mode = os.stat(path).st_mode & 0o7777
            text = text.replace(CMON_API_OLD, CMON_API_NEW, 1)
        else:
            mode, text = 0o644, DEFAULT_CONFIG_JS
        from ccmgr.fsutil import atomic_write  # the file is replaced whole, never half-written

        atomic_write(path, text.encode("utf-8"), mode)
    except (OSError, UnicodeDecodeError) as exc:
        say(f"Error updating {path}: {exc}")
        return
    say(f"File {path} updated successfully")


def init(args: argparse.Namespace) -> int:
    if args.port is not None and not 0 < args.port < 65536:
        raise CommandError(f"invalid port {args.port}")
    services = open_services(args)
    rpc_key = _rpc_key(args.cmon_config) if args.cmon_config else None

    def mutate(doc: dict) -> None:
        if args.local_cmon:
            local = {"url": args.cmon_url, "cmon_ssh_host": args.cmon_ssh_url, "name": "local",
                     "frontend_url": "localhost"}
            if rpc_key:
                local.update(username="ccrpc", password=rpc_key)
            else:
                local["use_cmon_auth"] = True
            try:
                record = instances.add(doc, local)
            except instances.InstanceError as exc:
                raise CommandError(str(exc)) from None
            if not args.enable_mcc:
                doc["single_controller"] = record["xid"]
            say(f"Controller {args.cmon_url} registered successfully")
        if args.port is not None and args.port != doc["port"]:
            say(f"Changing port from {doc['port']} to {args.port}")
            doc["port"] = args.port
        if args.frontend_path and args.frontend_path != doc.get("frontend_path"):
            say(f"Changing frontend_path from {doc.get('frontend_path')} to {args.frontend_path}")
            doc["frontend_path"] = args.frontend_path

    services.store.update(mutate, force=True)
    if args.frontend_path:
        write_frontend_config(args.frontend_path)
    audit_change("init")
    say(f"Configuration {services.store.path} updated successfully")
    say("Please restart 'ccmgr' service to apply changes")
    return 0
