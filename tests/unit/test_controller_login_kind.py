"""controllers/status says how ccmgr logs in to each controller (the dashboard shows it)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from ccmgr.config.model import Instance
from ccmgr.views.controllers import controller_status

NOW = datetime(2026, 12, 2, tzinfo=UTC)


@pytest.mark.parametrize(("instance", "kind"), [
    ({"url": "a:9501", "username": "u", "password": "p"}, "password"),
    ({"url": "a:9501", "username": "u", "keyfile": "/etc/ccmgr/key.pem"}, "keyfile"),
    ({"url": "a:9501", "useldap": True}, "ldap"),
    ({"url": "a:9501", "use_cmon_auth": True}, "cmon"),
])
def test_status_names_the_login_kind(instance, kind):
    status = controller_status(Instance.parse(instance), now=NOW)
    assert status["login"] == kind


def test_status_never_carries_the_credentials():
    status = controller_status(Instance.parse({"url": "a:9501", "username": "svc",
                                               "password": "s3cret",
                                               "keyfile": "/etc/ccmgr/key.pem"}), now=NOW)
    assert "s3cret" not in repr(status) and "/etc/ccmgr/key.pem" not in repr(status)
