"""Everything that defines a simulated estate and how it is served."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .estate import DEFAULT_QUIRKS, EstateSpec


@dataclass
class SimOptions:
    controllers: int = 1
    clusters: int | Sequence[int] = 3  # per controller, or a count per controller
    hosts: int = 3  # database nodes per cluster
    seed: int = 1
    now: float | None = None  # data timestamps are relative to this (default: start time)
    ldap: Sequence[int] = ()  # indexes of LDAP-enabled controllers
    quirks: frozenset[str] = DEFAULT_QUIRKS
    versions: Mapping[int, str] = field(default_factory=dict)
    bind: str = "127.0.0.1"
    base_port: int = 0  # controller i listens on base_port + i; 0 = ephemeral ports
    advertise: str | None = None  # host put in printed URLs (default: bind address)
    prefix: str = ""  # URL path prefix such as "/api"
    admin_bind: str = "127.0.0.1"
    admin_port: int = 0
    faults: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)  # index -> settings
    default_faults: Mapping[str, Any] = field(default_factory=dict)  # for every controller
    idle_ttl: float = 1800.0  # idle session lifetime, seconds
    keepalive_timeout: float = 300.0  # idle HTTP connection lifetime, seconds
    cert_file: str | None = None
    key_file: str | None = None
    warm: bool = True  # pre-serialise cmon-proxy's getAllClusterInfo at start

    def estate_spec(self) -> EstateSpec:
        return EstateSpec(
            controllers=self.controllers,
            clusters=self.clusters if isinstance(self.clusters, int) else tuple(self.clusters),
            hosts=self.hosts,
            seed=self.seed,
            now=self.now if self.now is not None else time.time(),
            ldap=frozenset(self.ldap),
            quirks=frozenset(self.quirks),
            versions=dict(self.versions),
        )

    def url_host(self) -> str:
        if self.advertise:
            return self.advertise
        if self.bind in ("", "0.0.0.0", "::"):  # noqa: S104 - only compared, never bound here
            return "127.0.0.1"
        return self.bind

    def normalised_prefix(self) -> str:
        p = self.prefix.strip().rstrip("/")
        if p and not p.startswith("/"):
            p = "/" + p
        return p
