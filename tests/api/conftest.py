"""An in-process ccmgr app pointed at simulated controllers (real sockets, real TLS)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ccmgr.app import create_app
from ccmgr.bootstrap import bootstrap
from ccmgr.collectors.service import Collectors
from ccmgr.runtime import Services
from ccmgr.xid import new_xid
from cmonsim.testing import SimEstate
from daemonkit import write_config
from falcon import testing


def instance_of(ctl: Any, **extra: Any) -> dict:
    record = {"xid": new_xid(), "url": ctl.url, "name": ctl.name,
              "username": ctl.username, "password": ctl.password}
    record.update(extra)
    return record


@dataclass
class Api:
    services: Services
    client: testing.TestClient
    collectors: Collectors
    estate: SimEstate | None
    admin_password: str
    sid: str = ""

    def login(self, username: str = "admin", password: str | None = None) -> testing.Result:
        reply = self.client.simulate_post("/proxy/auth/login", body=json.dumps(
            {"username": username, "password": password or self.admin_password}))
        if reply.status_code == 200:
            self.sid = reply.cookies["sid"].value
        return reply

    def post(self, path: str, body: Any = None, **kw: Any) -> testing.Result:
        data = body if isinstance(body, (str, bytes)) else json.dumps(
            {} if body is None else body)
        return self.client.simulate_post(path, body=data, cookies={"sid": self.sid}, **kw)

    def get(self, path: str) -> testing.Result:
        return self.client.simulate_get(path, cookies={"sid": self.sid})

    @property
    def instances(self) -> list[dict]:
        return self.services.store.current().instances

    def xid(self, index: int) -> str:
        return self.instances[index]["xid"]


@pytest.fixture
def make_api(basedir: Path, cmon_estate: Callable[..., SimEstate]) -> Iterator[Callable[..., Api]]:
    made: list[Api] = []

    def factory(estate: SimEstate | None = None, *, instances: list[dict] | None = None,
                timeout: int = 5, cache_ttl: float | None = None, login: bool = True,
                fetch_processes: int = 0, **estate_kw: Any) -> Api:
        if estate is None and estate_kw:
            estate = cmon_estate(**estate_kw)
        if instances is None:
            instances = [instance_of(c) for c in estate] if estate is not None else []
        write_config(basedir, {"timeout": timeout, "instances": instances})
        services = Services.from_basedir(str(basedir))
        password = bootstrap(services)
        # sub-second TTLs for tests
        collectors = Collectors(ttl=cache_ttl, fetch_processes=fetch_processes)
        api = Api(services, testing.TestClient(create_app(services, collectors=collectors)),
                  collectors, estate, password)
        made.append(api)
        if login:
            assert api.login().status_code == 200
        return api

    yield factory
    for api in made:
        api.collectors.close()
