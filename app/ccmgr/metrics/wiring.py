"""One place that builds a node's metrics: the registry, the middleware, the collectors."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, disable_created_metrics, generate_latest

from ccmgr.collectors.memo import ReplyMemo
from ccmgr.collectors.service import Collectors
from ccmgr.ha.state import HAState
from ccmgr.metrics.controllers import ControllerExposition, FetchMetrics
from ccmgr.metrics.ha import HACollector
from ccmgr.metrics.service import RequestMetrics, ServiceCollector
from ccmgr.metrics.token import MetricsToken
from ccmgr.runtime import Services


@dataclass
class NodeMetrics:
    registry: CollectorRegistry
    controllers: ControllerExposition
    requests: RequestMetrics
    token: MetricsToken

    def render(self) -> bytes:
        """The node's /metrics text: the registry's families, then the controllers' (two
        disjoint sets of names, so the concatenation is one valid exposition)."""
        return generate_latest(self.registry) + self.controllers.text()


def build(services: Services, collectors: Collectors, memos: Iterable[tuple[str, ReplyMemo]],
          replicator: object = None) -> NodeMetrics:
    disable_created_metrics()  # no *_created series: half the lines, nothing alerts on them
    registry = CollectorRegistry(auto_describe=False)
    requests = RequestMetrics(registry)
    fetches = FetchMetrics(registry, services.store)
    collectors.fetch_observers.append(fetches.observe)
    registry.register(ServiceCollector(
        requests, memos, lambda: services.store.current().session_ttl_seconds))
    registry.register(HACollector(services.store, HAState(services.basedir), replicator))
    token = MetricsToken(services.basedir)
    token.ensure()  # at first start; node-local, never replicated
    return NodeMetrics(registry, ControllerExposition(collectors, services.store),
                       requests, token)
