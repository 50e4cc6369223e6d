"""The common play of ansible/site.yml, checked with testinfra over SSH on every lab host.

Run by `make test` (the `site` fixture converges the lab once) and by molecule's verify
step (ansible/molecule/default), where the converge has already happened.
"""

from __future__ import annotations

import re

import pytest
from labkit import Lab

pytestmark = pytest.mark.lab

PLAN = Lab.from_env()


@pytest.fixture(params=sorted(PLAN.hosts))
def node(request, site):
    return request.param, site.host(request.param)


def test_host_name_is_the_inventory_name(node):
    name, host = node
    assert host.check_output("hostname") == name
    assert host.file("/etc/hostname").content_string.strip() == name


def test_hosts_file_pins_every_inventory_host(node):
    _, host = node
    text = host.file("/etc/hosts").content_string
    block = re.search(r"# BEGIN ccmgr inventory hosts.*?\n(.*?)# END ccmgr inventory hosts",
                      text, re.S)
    assert block, text
    pinned = dict(line.split()[::-1] for line in block.group(1).splitlines())
    assert pinned == PLAN.hosts
    assert not re.search(r"^127\.0\.1\.1\s", text, re.M)


def test_own_name_resolves_to_the_lab_address(node):
    name, host = node
    assert host.check_output(f"getent ahostsv4 {name}").split()[0] == PLAN.hosts[name]


def test_time_zone_is_utc(node):
    _, host = node
    assert host.file("/etc/localtime").linked_to == "/usr/share/zoneinfo/Etc/UTC"
    assert host.file("/etc/timezone").content_string == "Etc/UTC\n"
    assert host.file("/etc/timezone").mode == 0o644


def test_sshd_is_enabled_and_listening(node):
    _, host = node
    assert host.service("ssh").is_enabled
    assert host.service("ssh").is_running
    assert host.socket("tcp://0.0.0.0:22").is_listening
