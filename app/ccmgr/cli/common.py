"""What every ccmgradm command shares: the banner, finding the config, secrets from the
terminal or stdin, audit lines, and asking the running daemon to reload."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys

from ccmgr import logsetup
from ccmgr.config import Config
from ccmgr.reloadtoken import RELOAD_PURPOSE, RELOAD_TOKEN_HEADER
from ccmgr.runtime import Services, effective_port

BANNER = "ClusterControl Manager - admin CLI v2.2"
log = logging.getLogger("ccmgr.cli")


class CommandError(Exception):
    """An operation failed; the message is printed as one line and the exit code is 1."""


def say(message: str, *, to_stderr: bool = False) -> None:
    print(message, file=sys.stderr if to_stderr else sys.stdout, flush=True)


def open_services(args: argparse.Namespace) -> Services:
    services = Services.from_basedir(args.basedir)
    if not os.path.isdir(args.basedir):
        raise CommandError(f"basedir {args.basedir} does not exist (use --basedir or "
                           "CCMGR_BASEDIR, or install the ccmgr package)")
    config = services.store.current()  # an invalid file stops here, with its key and line
    from ccmgr.ha.replicator import attach  # here: avoids an import cycle via cli.ha
    attach(services)  # a write made here on the primary reaches the secondaries before we exit
    logfile = config.logfile
    if os.path.exists(logfile) and os.access(logfile, os.W_OK):
        logsetup.configure_for(config, stderr=False)
    return services


def report_committed(services: Services, what: str, *args: object) -> None:
    """Audit a committed change, say so as cmon-proxy did, and ask the daemon to reload."""
    audit_change(what, *args)
    say("Succeed, reloading daemon.")
    reload_daemon(services, services.store.current())


def audit_change(what: str, *args: object) -> None:
    logsetup.audit("ccmgradm (uid %d): " + what, os.getuid(), *args)


def read_secret(args: argparse.Namespace, positional: str | None, what: str = "Password",
                *, confirm: bool = True) -> str:
    """A secret from --password-stdin, the terminal, piped stdin, or (discouraged) argv.

    A verb forwarded from a secondary brings the secret it read there.
    """
    if getattr(args, "forwarded_secret", None) is not None:
        return args.forwarded_secret
    if getattr(args, "password_stdin", False):
        return sys.stdin.readline().rstrip("\r\n")
    if positional is not None:
        print("warning: a password on the command line is visible to every user in the "
              "process list; prefer the prompt or --password-stdin", file=sys.stderr)
        return positional
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"{what}: ")
    if confirm and getpass.getpass(f"{what} (again): ") != first:
        raise CommandError("The two passwords do not match.")
    return first


def reload_daemon(services: Services, config: Config, *, to_stderr: bool = False) -> None:
    """Ask the local daemon to re-read the config now, and say what happened.

    The daemon also notices the changed file by itself; this confirms it. Commands whose
    stdout is data (``--json``) send these messages to stderr.
    """
    def say(message: str) -> None:
        print(message, file=sys.stderr if to_stderr else sys.stdout, flush=True)

    import requests  # only commands that changed something pay for the import
    import urllib3

    from ccmgr.http import peer_session

    bind = config.settings.bind_address
    host = bind if bind and bind not in ("0.0.0.0", "::") else "127.0.0.1"  # noqa: S104
    host = f"[{host}]" if ":" in host else host
    url = f"https://{host}:{effective_port(config.port)}/proxy/admin/reload"
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    try:
        token = services.secret.derive(RELOAD_PURPOSE)
        # Our own daemon on this host; its certificate may be the self-signed one.
        with peer_session() as session:
            reply = session.post(url, headers={RELOAD_TOKEN_HEADER: token},
                                 timeout=(3.05, 30), verify=False)
    except (OSError, ValueError) as exc:
        if isinstance(exc, requests.ConnectionError):
            say("No ccmgr daemon answered; the change is saved and applies when the "
                "'ccmgr' service starts.")
            return
        say(f"Warning: could not ask the daemon to reload ({exc.__class__.__name__}); the "
            "change is saved and the daemon picks it up by itself.")
        return
    if reply.status_code == 200:
        say("Config reloaded successfully")
    else:
        say(f"Warning: the daemon answered the reload with HTTP {reply.status_code}; the change "
            "is saved and the daemon picks it up by itself.")
