"""gunicorn settings for ccmgr, read from the node's ccmgr.yaml (CCMGR_BASEDIR).

Plain assignments under headings, as gunicorn's own examples do. ``ccmgr`` passes this file
by path, and gunicorn re-executes a config file on every start and on every HUP, so a changed
port or certificate applies on ``systemctl reload ccmgr``. Check with
``gunicorn --check-config -c .../ccmgr/gunicorn_conf.py ccmgr.app:get_app()``.
"""

import os
import ssl

from ccmgr.config.store import read_config
from ccmgr.runtime import CONFIG_NAME, basedir_from, effective_port, effective_tls

_config = read_config(os.path.join(basedir_from(), CONFIG_NAME))
_cert, _key = effective_tls(_config.tls_cert, _config.tls_key)

# --- socket: all interfaces unless bind_address says otherwise, as cmon-proxy does
_host = _config.doc.get("bind_address") or "0.0.0.0"  # noqa: S104
bind = [f"{_host}:{effective_port(_config.port)}"]
backlog = 256

# --- TLS (the app speaks HTTPS itself, as cmon-proxy does)
certfile = _cert
keyfile = _key

# --- workers: one process with threads. The work is waiting on controllers, so threads
# suffice, and one process keeps caches, single-flight and the login limiter exact.
# gthread with a front that reads handshakes and requests without a thread, so idle
# clients cannot take the threads (ccmgr/connguard.py says why and how).
worker_class = "ccmgr.connguard.GuardedThreadWorker"
workers = int(os.environ.get("CCMGR_WORKERS", "1"))
threads = int(os.environ.get("CCMGR_THREADS", "32"))
# Idle connections cost a descriptor, not a thread: room for thousands (the unit's
# LimitNOFILE is 16384; the worker lifts its soft limit to fit).
worker_connections = int(os.environ.get("CCMGR_WORKER_CONNECTIONS", "4096"))
timeout = 120
graceful_timeout = 30
# An idle kept-alive connection is closed after this many seconds: short, but longer than
# HAProxy's http-keep-alive (10 s), so on the balanced path the balancer closes first.
keepalive = int(os.environ.get("CCMGR_KEEPALIVE", "15"))
max_requests = 0

# --- logging: gunicorn's own messages to stderr (journal); the app logs to its logfile.
errorlog = "-"
loglevel = os.environ.get("CCMGR_GUNICORN_LOGLEVEL", "info")
accesslog = os.environ.get("CCMGR_ACCESSLOG") or None

# --- naming and control: ccmgr is managed by signals (systemd), not gunicorn's socket
proc_name = "ccmgr"
control_socket_disable = True


# --- hooks
# TLS 1.2 suites: forward secrecy and AEAD only (OpenSSL's defaults also offered two CBC
# suites); TLS 1.3 suites are all AEAD and not affected by this list.
TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"


def ssl_context(conf, default_ssl_context_factory):  # noqa: ANN001, ANN201 - gunicorn's hook
    context = default_ssl_context_factory()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(TLS12_CIPHERS)
    return context


def when_ready(server):  # noqa: ANN001, ANN201 - gunicorn's hook
    server.log.info("ccmgr ready on %s (generation %d)", ", ".join(bind), _config.generation)
