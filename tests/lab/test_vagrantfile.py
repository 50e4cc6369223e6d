"""The Vagrantfile is valid and describes the same lab as lab/labctl.py.

Needs no root and no hypervisor: `vagrant validate --ignore-provider` works offline, and
the plan is read by evaluating the Vagrantfile against a small recording stub in Ruby.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from labkit import REPO, Lab, on_ci

STUB = r"""
require "json"
PLAN = { "machines" => {}, "provision" => [] }
class Anything
  def method_missing(*_args, **_kw) = (yield Anything.new if block_given?; Anything.new)
  def respond_to_missing?(*) = true
end
class Recorder < Anything
  attr_reader :values
  def initialize = (@values = {})
  def method_missing(name, *args, **_kw)
    return super unless name.end_with?("=")
    @values[name.to_s.chomp("=")] = args[0]
  end
end
class VM < Anything
  def initialize(name) = (@name = name)
  def define(name, **) = (yield Node.new(name))
  def network(type, **opts)
    PLAN["machines"][@name] = opts[:ip] if type == "private_network"
  end
  def provision(type, **)
    rec = Recorder.new
    yield rec
    PLAN["provision"] << rec.values.merge("type" => type, "machine" => @name)
  end
end
class Node < Anything
  def initialize(name) = (@vm = VM.new(name))
  attr_reader :vm
end
module Vagrant
  def self.configure(_version) = (yield Node.new(nil))
end
load ARGV[0]
puts JSON.generate(PLAN)
"""


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        reason = f"{tool} not installed (tools/host-packages.txt lists vagrant; make host-deps)"
        if on_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("secondaries", [1, 2])
def test_vagrant_validate_accepts_the_vagrantfile(tmp_path, secondaries):
    env = {**os.environ, "VAGRANT_HOME": str(tmp_path / "home"), "LAB_SECONDARIES":
           str(secondaries), "VAGRANT_DOTFILE_PATH": str(tmp_path / "dot"),
           "VAGRANT_CHECKPOINT_DISABLE": "1", "VAGRANT_NO_COLOR": "1"}
    proc = subprocess.run([need("vagrant"), "validate", "--ignore-provider"], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Vagrantfile validated successfully" in proc.stdout


@pytest.mark.parametrize("secondaries", [1, 2])
def test_vagrantfile_has_the_lab_hosts_addresses_and_groups(tmp_path, monkeypatch,
                                                            secondaries):
    monkeypatch.setenv("LAB_SECONDARIES", str(secondaries))
    stub = tmp_path / "stub.rb"
    stub.write_text(STUB)
    proc = subprocess.run([need("ruby"), str(stub), str(REPO / "Vagrantfile")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    lab = Lab.from_env()
    assert plan["machines"] == lab.hosts
    [ansible] = plan["provision"]
    assert ansible["type"] == "ansible"
    assert ansible["machine"] == list(lab.hosts)[-1]  # once, after every machine is up
    assert ansible["limit"] == "all"
    assert ansible["playbook"] == "ansible/site.yml"
    assert (REPO / ansible["playbook"]).is_file()
    groups = {g: m for g, m in ansible["groups"].items() if g != "ccm:children"}
    assert groups == {g: lab.groups[g] for g in
                      ("loadbalancer", "ccm_primary", "ccm_secondary", "cmon_sim")}
    assert ansible["groups"]["ccm:children"] == ["ccm_primary", "ccm_secondary"]
    # The balancer pair's virtual address is labctl's, handed to site.yml.
    assert ansible["extra_vars"] == {"site_public_address": lab.vip}
