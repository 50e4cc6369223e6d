"""`cmonsim`: serve simulated controllers until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import calendar
import json
import signal
import sys
import time
from collections.abc import Sequence
from typing import Any

from . import __version__
from .estate import ALL_QUIRKS, DEFAULT_QUIRKS
from .faults import MODES, FaultError, parse_faults
from .options import SimOptions


def _int_list(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def _json_obj(text: str) -> dict[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object")
    return value


def _time(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float(calendar.timegm(time.strptime(text.rstrip("Z").split(".")[0],
                                                   "%Y-%m-%dT%H:%M:%S")))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cmonsim",
        description="Serve simulated ClusterControl controllers (cmon RPC v2 over HTTPS).")
    p.add_argument("--version", action="version", version=f"cmonsim {__version__}")
    g = p.add_argument_group("estate")
    g.add_argument("--controllers", type=int, default=1, help="number of controllers")
    g.add_argument("--clusters", default="3",
                   help="clusters per controller, or a comma list with one count per controller")
    g.add_argument("--hosts", type=int, default=3, help="database nodes per cluster")
    g.add_argument("--seed", type=int, default=1, help="data seed (same seed, same data)")
    g.add_argument("--now", type=_time, default=None,
                   help="time the data is relative to (unix seconds or ISO); default: start")
    g.add_argument("--ldap", default="",
                   help="LDAP-enabled controllers: comma list of indexes (from 0) or 'all'")
    known = ", ".join(sorted(ALL_QUIRKS))
    g.add_argument("--quirks", default=",".join(sorted(DEFAULT_QUIRKS)),
                   help=f"realism quirks to enable, or 'none' (known: {known})")
    n = p.add_argument_group("network")
    n.add_argument("--bind", default="127.0.0.1", help="address the controllers listen on")
    n.add_argument("--base-port", type=int, default=9501,
                   help="controller i listens on BASE+i (0: ephemeral ports)")
    n.add_argument("--advertise", default=None,
                   help="host name printed in controller URLs (default: --bind)")
    n.add_argument("--prefix", default="", help="URL path prefix, e.g. /api")
    n.add_argument("--admin-bind", default="127.0.0.1", help="admin endpoint address")
    n.add_argument("--admin-port", type=int, default=None,
                   help="admin endpoint port (default: BASE-1, or ephemeral when BASE is 0)")
    n.add_argument("--cert", default=None, help="PEM certificate (default: self-signed)")
    n.add_argument("--key", default=None, help="PEM key for --cert")
    f = p.add_argument_group("faults (per controller, changeable via the admin endpoint)")
    f.add_argument("--latency", type=float, default=0.0, help="seconds added to every reply")
    f.add_argument("--jitter", type=float, default=0.0, help="+/- seconds around --latency")
    f.add_argument("--mode", default=None, choices=MODES, help="fault mode for every controller")
    f.add_argument("--faults", type=_json_obj, default={},
                   help='per-controller settings as JSON, e.g. \'{"1": {"mode": "hang"}}\'')
    f.add_argument("--default-faults", type=_json_obj, default={}, help=argparse.SUPPRESS)
    f.add_argument("--session-idle-ttl", type=float, default=1800.0,
                   help="idle session lifetime in seconds")
    p.add_argument("--ready-json", action="store_true",
                   help="print one JSON line with the admin URL when ready (for tools)")
    return p


def options_from_args(args: argparse.Namespace) -> SimOptions:
    clusters: int | list[int] = (_int_list(args.clusters) if "," in args.clusters
                                 else int(args.clusters))
    if isinstance(clusters, list) and len(clusters) != args.controllers:
        raise ValueError("--clusters list needs one count per controller")
    ldap = (list(range(args.controllers)) if args.ldap == "all" else _int_list(args.ldap))
    quirks = frozenset() if args.quirks in ("", "none") else frozenset(
        q.strip() for q in args.quirks.split(",") if q.strip())
    unknown = quirks - ALL_QUIRKS
    if unknown:
        raise ValueError(f"unknown quirk(s): {', '.join(sorted(unknown))}")
    default_faults = dict(args.default_faults)
    if args.latency:
        default_faults["latency"] = args.latency
    if args.jitter:
        default_faults["jitter"] = args.jitter
    if args.mode:
        default_faults["mode"] = args.mode
    faults = {int(k): v for k, v in args.faults.items()}
    for settings in (default_faults, *faults.values()):
        parse_faults(settings)  # fail early with a clear message
    admin_port = args.admin_port
    if admin_port is None:
        admin_port = args.base_port - 1 if args.base_port > 1 else 0
    return SimOptions(
        controllers=args.controllers, clusters=clusters, hosts=args.hosts, seed=args.seed,
        now=args.now, ldap=ldap, quirks=quirks, bind=args.bind, base_port=args.base_port,
        advertise=args.advertise, prefix=args.prefix, admin_bind=args.admin_bind,
        admin_port=admin_port, faults=faults, default_faults=default_faults,
        idle_ttl=args.session_idle_ttl, cert_file=args.cert, key_file=args.key)


def describe(server: Any) -> str:
    from .admin import AdminApi

    api = AdminApi(server)
    lines = []
    for ctl in server.states:
        info = api.controller_info(ctl)
        lines.append(f"{info['name']}  https://{info['url']}  controller_id={info['controller_id']}"
                     f"  version={info['version']}  clusters={info['clusters']}"
                     + ("  LDAP" if info["ldap"] else ""))
        admin = info["users"][0]
        lines.append(f"  ccmgradm addcontroller -u {admin['user_name']} -p {admin['password']}"
                     f" -n {info['name']} {info['url']}")
        if info["ldap"]:
            ldap_users = ", ".join(f"{u['user_name']}/{u['password']}" for u in info["users"]
                                   if u["origin"] == "LDAP")
            lines.append(f"  ccmgradm addcontroller -l -n {info['name']} {info['url']}"
                         f"   # LDAP users: {ldap_users}")
    lines.append(f"admin endpoint: http://{server.options.admin_bind}:{server.admin_port}/"
                 "controllers")
    return "\n".join(lines)


async def serve(options: SimOptions, ready_json: bool) -> None:
    from .server import build_server

    loop = asyncio.get_running_loop()
    server = await loop.run_in_executor(None, build_server, options, True)
    await server.start()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if ready_json:
        print(json.dumps({"admin_url": f"http://{options.admin_bind}:{server.admin_port}"}),
              flush=True)
    else:
        print(describe(server), flush=True)
    try:
        await stop.wait()
    finally:
        await server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        options = options_from_args(args)
    except (ValueError, FaultError) as exc:
        print(f"cmonsim: error: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(serve(options, args.ready_json))
    except OSError as exc:  # e.g. port in use
        print(f"cmonsim: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
