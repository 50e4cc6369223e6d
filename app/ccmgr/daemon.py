"""``ccmgr --basedir DIR``: check the config, do first-start duties, then become gunicorn.

The process execs gunicorn rather than spawning it, so systemd's MAINPID is gunicorn's
arbiter: ``Type=notify`` readiness and ``kill -HUP $MAINPID`` reloads reach it directly.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from ccmgr import __version__, logsetup
from ccmgr.bootstrap import bootstrap
from ccmgr.errors import ConfigError
from ccmgr.runtime import BASEDIR_ENV, Services, basedir_from, effective_tls, fetch_processes
from ccmgr.tlsgen import CertificateError, ensure_certificate, renew_if_expiring

log = logging.getLogger("ccmgr.daemon")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ccmgr", description="Run the ccmgr service.")
    parser.add_argument("--basedir", help=f"directory of ccmgr.yaml (default: ${BASEDIR_ENV} "
                                          "or /var/lib/ccmgr)")
    parser.add_argument("--check", action="store_true",
                        help="validate the configuration and exit")
    parser.add_argument("--version", action="version", version=f"ccmgr {__version__}")
    return parser


def prepare(basedir: str) -> Services:
    """Everything that must hold before gunicorn starts; raises with a clear message."""
    os.makedirs(basedir, mode=0o750, exist_ok=True)
    services = Services.from_basedir(basedir)
    config = services.store.current()
    logsetup.configure_for(config)
    log.info("ClusterControl Manager (ccmgr) v%s, basedir %s", __version__, basedir)
    password = bootstrap(services)
    if password and sys.stderr.isatty():
        # Shown once to the person who started it by hand; services read the file instead.
        print(f"Default 'admin' user has been created with password '{password}'",
              file=sys.stderr)
    cert, key = effective_tls(config.tls_cert, config.tls_key)
    if ensure_certificate(cert, key):
        log.info("Created a self-signed TLS certificate %s", cert)
    elif renew_if_expiring(cert, key):
        log.info("Renewed the self-signed TLS certificate %s (it was about to expire)", cert)
    return services


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    basedir = basedir_from(args.basedir)
    try:
        fetch_processes()  # a bad value stops here, not in every worker gunicorn starts
        if args.check:
            config = Services.from_basedir(basedir).store.current()
            print(f"{config.path}: OK (generation {config.generation})")
            return 0
        prepare(basedir)
    except (ConfigError, CertificateError, ValueError) as exc:
        print(f"ccmgr: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"ccmgr: error: {exc.filename or basedir}: {exc.strerror}", file=sys.stderr)
        return 1
    os.environ[BASEDIR_ENV] = basedir
    # glibc gives threads that allocate at once their own malloc arenas (up to 8 per CPU);
    # with 32 request and 64 fetch threads the worker's memory then grew ~0.8 MiB with
    # every refresh of a large estate. Two arenas keep it flat (docs/benchmarks.md). An
    # operator's own setting (e.g. in a systemd drop-in) wins.
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    # Blocks of 128 KiB and more (a controller's reply body is ~220 KiB) always come from
    # mmap and go back to the system when freed. By default glibc raises this threshold
    # after the first such free, and the bodies of every refresh then fragment the heap:
    # at 500 controllers the worker's peak was 237 instead of 217 MiB and it stayed there.
    os.environ.setdefault("MALLOC_MMAP_THRESHOLD_", "131072")
    # A file path, not "python:ccmgr.gunicorn_conf": gunicorn re-executes a config *file* on
    # every HUP, but imports a python: module only once, so reloads would miss port/TLS changes.
    conf = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gunicorn_conf.py")
    gunicorn_args = [sys.executable, "-m", "gunicorn", "-c", conf, "ccmgr.app:get_app()"]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, gunicorn_args)  # noqa: S606 - become gunicorn, keep the PID
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
