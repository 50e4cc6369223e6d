"""Python API for tests: start an estate, find each controller's URL and
credentials, flip faults and read request counters.

    with start_estate(controllers=2, clusters=5, hosts=3, seed=1) as estate:
        c = estate[0]
        c.url                      # "127.0.0.1:40123" (ccmgr's config form, no scheme)
        c.username, c.password     # static admin credentials of that controller
        c.set_faults(mode="hang")  # merge fault settings (see cmonsim.faults.Faults)
        c.count("/v2/clusters", "getAllClusterInfo")

The estate runs in a background thread of the calling process (default) or,
with `subprocess=True`, in a child `cmonsim` process. Both are driven through
the admin endpoint, so the API is the same either way.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess as sp
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .options import SimOptions

# Never route admin calls through an HTTP proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class AdminError(RuntimeError):
    """The admin endpoint refused a call (bad fault setting, unknown controller...)."""


def admin_call(base: str, method: str, path: str, body: Any = None,
               timeout: float = 30.0) -> Any:
    if not base.startswith("http://"):
        raise ValueError("the admin endpoint is plain http")
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,  # noqa: S310
                                 headers={"Content-Type": "application/json"})
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            return json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        raise AdminError(f"{method} {path}: HTTP {exc.code}: {detail}") from None


@dataclass
class SimController:
    """One simulated controller as a client sees it."""

    index: int
    name: str
    url: str  # host:port[/prefix], no scheme
    https_url: str
    host: str
    port: int
    prefix: str
    controller_id: str
    version: str
    ldap: bool
    users: list[dict[str, Any]]
    admin_url: str = field(repr=False)

    @property
    def username(self) -> str:
        return self.users[0]["user_name"]

    @property
    def password(self) -> str:
        return self.users[0]["password"]

    @property
    def ldap_users(self) -> list[tuple[str, str]]:
        return [(u["user_name"], u["password"]) for u in self.users if u["origin"] == "LDAP"]

    def rpc_url(self, module: str) -> str:
        """Full URL of an RPC module, e.g. rpc_url("clusters")."""
        return f"{self.https_url}/v2/{module.strip('/')}"

    def _admin(self, method: str, rest: str, body: Any = None) -> Any:
        return admin_call(self.admin_url, method, f"/controllers/{self.index}{rest}", body)

    # faults
    def set_faults(self, **settings: Any) -> dict[str, Any]:
        """Merge fault settings, e.g. set_faults(mode="http500", modules=["alarm"])."""
        return self._admin("PATCH", "/faults", settings)

    def replace_faults(self, **settings: Any) -> dict[str, Any]:
        return self._admin("PUT", "/faults", settings)

    def clear_faults(self) -> dict[str, Any]:
        return self._admin("DELETE", "/faults")

    def faults(self) -> dict[str, Any]:
        return self._admin("GET", "/faults")

    def stop(self) -> None:
        """Close the listener (clients get connection refused)."""
        self.set_faults(mode="refused")

    def start(self) -> None:
        self.set_faults(mode=None)

    # counters and sessions
    def counters(self) -> dict[tuple[str, str], int]:
        """{(path, lower-case operation): requests seen}, e.g. ("/v2/alarm", "getalarms")."""
        rows = self._admin("GET", "/counters")["counters"]
        return {(r["path"], r["operation"]): r["count"] for r in rows}

    def count(self, path: str, operation: str | None = None) -> int:
        """Requests seen on a path ("clusters" or "/v2/clusters"), optionally one operation."""
        if not path.startswith("/"):
            path = f"/v2/{path}"
        op = operation.lower() if operation is not None else None
        return sum(n for (p, o), n in self.counters().items()
                   if p == path and (op is None or o == op))

    def reset_counters(self) -> None:
        self._admin("DELETE", "/counters")

    def callers(self) -> dict[tuple[str, str], int]:
        """{(path, cmon user name): authenticated requests}: whose session made each call."""
        rows = self._admin("GET", "/callers")["callers"]
        return {(r["path"], r["user"]): r["count"] for r in rows}

    def expire_sessions(self) -> int:
        return self._admin("POST", "/sessions/expire")["expired"]

    def rename_cluster(self, cluster_id: int, name: str) -> None:
        """Give a cluster another name (any text: names are controller data)."""
        self._admin("PATCH", f"/clusters/{cluster_id}", {"cluster_name": name})

    def data(self) -> dict[str, Any]:
        """The generated records: clusters (with hosts), alarms, jobs, schedules, ..."""
        return self._admin("GET", "/data")


class SimEstate:
    """A running estate; use as a context manager or call stop()."""

    def __init__(self, admin_url: str, stopper: Any, pid: int | None = None) -> None:
        self.admin_url = admin_url
        self._stopper = stopper
        self.pid = pid  # the cmonsim process (subprocess=True), None when in this process
        info = admin_call(admin_url, "GET", "/controllers")
        self.controllers = [
            SimController(**{k: c[k] for k in (
                "index", "name", "url", "https_url", "host", "port", "prefix",
                "controller_id", "version", "ldap", "users")}, admin_url=admin_url)
            for c in info["controllers"]
        ]

    def __getitem__(self, index: int) -> SimController:
        return self.controllers[index]

    def __iter__(self) -> Iterator[SimController]:
        return iter(self.controllers)

    def __len__(self) -> int:
        return len(self.controllers)

    def __enter__(self) -> SimEstate:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def set_faults(self, **settings: Any) -> None:
        admin_call(self.admin_url, "PATCH", "/faults", settings)

    def clear_faults(self) -> None:
        admin_call(self.admin_url, "DELETE", "/faults")

    def counters(self) -> dict[str, dict[tuple[str, str], int]]:
        rows = admin_call(self.admin_url, "GET", "/counters")["controllers"]
        return {c["name"]: {(r["path"], r["operation"]): r["count"] for r in c["counters"]}
                for c in rows}

    def reset_counters(self) -> None:
        admin_call(self.admin_url, "DELETE", "/counters")

    def in_flight_max(self) -> dict[str, int]:
        """The most RPCs answered at once since the last ``reset_stats``, by operation
        (path for a body without one), over all controllers."""
        return admin_call(self.admin_url, "GET", "/stats")["in_flight_max"]

    def reset_stats(self) -> None:
        admin_call(self.admin_url, "DELETE", "/stats")

    def private_key_pem(self) -> str:
        """The RSA key every static user accepts for key-based login (PKCS#8 PEM)."""
        return admin_call(self.admin_url, "GET", "/keys")["private_key_pem"]

    def stop(self) -> None:
        stopper, self._stopper = self._stopper, None
        if stopper is not None:
            stopper()


def start_estate(controllers: int = 1, clusters: int | Sequence[int] = 3, hosts: int = 3,
                 seed: int = 1, *, faults: Mapping[int, Mapping[str, Any]] | None = None,
                 latency: float = 0.0, jitter: float = 0.0,
                 ldap: bool | Sequence[int] = (), subprocess: bool = False,
                 **options: Any) -> SimEstate:
    """Start an estate on loopback ports and return a handle to it.

    faults: {controller index: fault settings} applied at start.
    latency/jitter: added to every controller's replies (seconds).
    ldap: True for every controller, or the indexes of LDAP-enabled controllers.
    options: any other SimOptions field (prefix, now, quirks, versions, ...).
    """
    ldap_idx = list(range(controllers)) if ldap is True else list(ldap or ())
    default_faults = dict(options.pop("default_faults", {}) or {})
    if latency:
        default_faults["latency"] = latency
    if jitter:
        default_faults["jitter"] = jitter
    opts = SimOptions(controllers=controllers, clusters=clusters, hosts=hosts, seed=seed,
                      ldap=ldap_idx, faults=dict(faults or {}), default_faults=default_faults,
                      **options)
    if opts.bind != "127.0.0.1" and not opts.bind.startswith("127."):
        raise ValueError("tests bind loopback only")
    if subprocess:
        return _start_subprocess(opts)
    from .server import ThreadedServer, build_server  # heavy imports only when used

    runner = ThreadedServer(build_server(opts))
    runner.start()
    try:
        return SimEstate(f"http://127.0.0.1:{runner.server.admin_port}", runner.stop)
    except BaseException:
        runner.stop()
        raise


def _start_subprocess(opts: SimOptions, timeout: float = 120.0) -> SimEstate:
    args = [sys.executable, "-m", "cmonsim", "--ready-json",
            "--controllers", str(opts.controllers), "--hosts", str(opts.hosts),
            "--seed", str(opts.seed), "--bind", opts.bind, "--base-port", str(opts.base_port),
            "--admin-bind", opts.admin_bind, "--admin-port", str(opts.admin_port),
            "--clusters", (str(opts.clusters) if isinstance(opts.clusters, int)
                           else ",".join(str(c) for c in opts.clusters)),
            "--quirks", ",".join(sorted(opts.quirks)) or "none",
            "--faults", json.dumps({str(k): dict(v) for k, v in opts.faults.items()}),
            "--default-faults", json.dumps(dict(opts.default_faults))]
    if opts.ldap:
        args += ["--ldap", ",".join(str(i) for i in opts.ldap)]
    if opts.prefix:
        args += ["--prefix", opts.prefix]
    if opts.now is not None:
        args += ["--now", str(opts.now)]
    proc = sp.Popen(args, stdout=sp.PIPE, stderr=sp.PIPE, text=True,
                    env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def stop() -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except sp.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()

    deadline = time.monotonic() + timeout
    try:
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"cmonsim exited: {proc.stderr.read() if proc.stderr else ''}")
            if line.startswith("{"):
                ready = json.loads(line)
                return SimEstate(ready["admin_url"], stop, proc.pid)
        raise TimeoutError("cmonsim subprocess did not become ready")
    except BaseException:
        stop()
        raise
