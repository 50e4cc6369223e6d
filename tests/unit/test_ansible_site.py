"""The Ansible side without the lab: lint, syntax, role layout, and the pki module's rules."""

from __future__ import annotations

import datetime
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from testkit import role_module

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ROLES = ("pki", "ccmgr", "replication", "haproxy", "keepalived", "firewall")
EXAMPLE_VAULT_PASSWORD = "example-vault-password-change-me"  # the documented placeholder


def ansible_env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "ANSIBLE_CONFIG": str(REPO / "ansible/ansible.cfg"), "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_NOCOLOR": "1"}


def tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.skip(f"{name} is not installed in the venv (requirements/dev.txt)")
    return str(path)


@pytest.mark.slow
def test_ansible_lint_production_profile_is_clean():
    proc = subprocess.run([tool("ansible-lint"), "--profile", "production", "--nocolor",
                           "roles", "ansible"], capture_output=True, text=True, cwd=REPO,
                          env=ansible_env(), timeout=600)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]


@pytest.mark.parametrize("playbook", ["ansible/site.yml", "ansible/cmonsim.yml"])
def test_playbooks_pass_syntax_check_with_the_example_inventory(tmp_path, playbook):
    secret = tmp_path / "vault-password"
    secret.write_text(EXAMPLE_VAULT_PASSWORD + "\n")
    proc = subprocess.run([tool("ansible-playbook"), "--syntax-check", "-i",
                           "ansible/inventories/example", "--vault-password-file", str(secret),
                           playbook], capture_output=True, text=True, cwd=REPO,
                          env=ansible_env(), timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_example_vault_is_encrypted_and_opens_with_the_documented_placeholder(tmp_path):
    vault = REPO / "ansible/inventories/example/group_vars/all/vault.yml"
    assert vault.read_text().startswith("$ANSIBLE_VAULT;1.1;AES256")
    secret = tmp_path / "vault-password"
    secret.write_text(EXAMPLE_VAULT_PASSWORD + "\n")
    proc = subprocess.run([tool("ansible-vault"), "view", "--vault-password-file", str(secret),
                           str(vault)], capture_output=True, text=True, env=ansible_env(),
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    names = set(yaml.safe_load(proc.stdout))
    example = yaml.safe_load((vault.parent / "vault.yml.example").read_text())
    assert names == set(example)
    assert EXAMPLE_VAULT_PASSWORD in (REPO / "ansible/inventories/example/README.md").read_text()


def test_no_clear_text_secret_in_the_example_group_vars():
    text = (REPO / "ansible/inventories/example/group_vars/all/main.yml").read_text()
    for entry in yaml.safe_load(text)["haproxy_stats_users"]:
        assert entry["password"].startswith("{{ vault_")
    for entry in yaml.safe_load(text)["ccmgr_seed_users"]:
        assert entry["password"].startswith("{{ vault_")


@pytest.mark.parametrize("role", ROLES)
def test_role_has_the_standard_layout(role):
    base = REPO / "roles" / role
    for part in ("defaults/main.yml", "meta/main.yml", "meta/argument_specs.yml",
                 "handlers/main.yml", "tasks/main.yml", "README.md"):
        assert (base / part).is_file(), f"{role}: missing {part}"


def entry_point_texts(base: Path, entry: str) -> str:
    """The text an entry point runs: tasks/<entry>.yml and what it imports, plus the
    templates (if it renders any), the internals of vars/ it reads and the handlers."""
    seen: list[Path] = []
    todo = [base / "tasks" / f"{entry}.yml"]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.append(path)
        text = path.read_text()
        todo += [base / "tasks" / m for m in re.findall(r"import_tasks: (\S+\.yml)", text)]
    texts = [p.read_text() for p in seen]
    if any("ansible.builtin.template" in t for t in texts):
        texts += [p.read_text() for p in sorted((base / "templates").glob("*.j2"))]
    topics = set(re.findall(r"notify: (.+)", "\n".join(texts)))
    for handler in yaml.safe_load((base / "handlers/main.yml").read_text()) or []:
        listen = handler.get("listen", [])
        names = {handler["name"], *([listen] if isinstance(listen, str) else listen)}
        if names & topics:
            texts.append(yaml.safe_dump(handler))
    internals = yaml.safe_load((base / "vars/main.yml").read_text()) if (
        base / "vars/main.yml").exists() else {}
    texts += [str(value) for name, value in (internals or {}).items()
              if any(name in t for t in texts)]  # the internals it reads
    return "\n".join(texts)


@pytest.mark.parametrize("role", ROLES)
def test_every_default_is_prefixed_and_declared_in_the_main_argument_spec(role):
    base = REPO / "roles" / role
    defaults = yaml.safe_load((base / "defaults/main.yml").read_text()) or {}
    specs = yaml.safe_load((base / "meta/argument_specs.yml").read_text())["argument_specs"]
    assert all(name.startswith(f"{role}_") for name in defaults), defaults
    assert set(specs["main"].get("options") or {}) == set(defaults), "main: every default, no more"


@pytest.mark.parametrize("role", ROLES)
def test_each_entry_point_declares_the_variables_it_uses(role):
    """One spec per tasks entry point: each declares what its own tasks, templates and
    handlers read (Ansible validates exactly that spec before the entry point's tasks)."""
    base = REPO / "roles" / role
    variables = set(yaml.safe_load((base / "defaults/main.yml").read_text()) or {})
    specs = yaml.safe_load((base / "meta/argument_specs.yml").read_text())["argument_specs"]
    entries = {p.stem for p in (base / "tasks").glob("*.yml")}
    assert set(specs) == entries, f"entry points {sorted(entries)}, specs {sorted(specs)}"
    for entry, spec in specs.items():
        used = set(re.findall(rf"\b{role}_[a-z0-9_]+", entry_point_texts(base, entry)))
        declared = set(spec.get("options") or {})
        missing = sorted((used & variables) - declared)
        assert not missing, f"{role}/{entry} does not declare {missing}"
        assert spec.get("short_description"), f"{role}/{entry}"


def test_argument_spec_descriptions_are_not_copied_between_options():
    """Each option says what it is: no two options of a role share a description."""
    for role in ROLES:
        options = yaml.safe_load((REPO / "roles" / role / "meta/argument_specs.yml").read_text())[
            "argument_specs"]["main"]["options"]
        descriptions = [str(o.get("description")) for o in options.values()]
        repeated = {d for d in descriptions if descriptions.count(d) > 1}
        assert not repeated, f"{role}: {repeated}"


def test_handlers_reload_and_never_restart_haproxy():
    handlers = yaml.safe_load((REPO / "roles/haproxy/handlers/main.yml").read_text())
    states = {h["name"]: next(v for k, v in h.items() if k.startswith("ansible.builtin."))
              .get("state") for h in handlers}
    assert "restarted" not in states.values()
    assert states["Reload haproxy"] == "reloaded"


# ------------------------------------------------------------------------ the pki module


@pytest.fixture
def pki():
    return role_module("pki", "ccmgr_pki")


def issue(pki, tmp: Path, sans: list[str], days: int = 397) -> None:
    ca_key, ca_cert = pki.load_key(str(tmp / "ca.key")), pki.load_cert(str(tmp / "ca.crt"))
    pki.make_cert(str(tmp / "n.key"), str(tmp / "n.crt"), ca_key, ca_cert, sans[0], sans, days)


def problem(pki, tmp: Path, sans: list[str], renew_days: int = 30) -> str | None:
    return pki.cert_problem(str(tmp / "n.key"), str(tmp / "n.crt"),
                            pki.load_cert(str(tmp / "ca.crt")), sans, renew_days)


def test_a_valid_certificate_is_kept(pki, tmp_path):
    pki.make_ca(str(tmp_path / "ca.key"), str(tmp_path / "ca.crt"), "CA", 3650)
    sans = ["ccm1", "10.0.0.11", "ccm.example.com"]
    issue(pki, tmp_path, sans)
    assert problem(pki, tmp_path, sans) is None
    assert problem(pki, tmp_path, list(reversed(sans))) is None  # order does not matter
    assert oct((tmp_path / "n.key").stat().st_mode & 0o777) == "0o600"


def test_a_missing_certificate_is_issued(pki, tmp_path):
    pki.make_ca(str(tmp_path / "ca.key"), str(tmp_path / "ca.crt"), "CA", 3650)
    assert problem(pki, tmp_path, ["ccm1"]) == "missing"


def test_changed_sans_reissue_and_keep_the_key(pki, tmp_path):
    pki.make_ca(str(tmp_path / "ca.key"), str(tmp_path / "ca.crt"), "CA", 3650)
    issue(pki, tmp_path, ["ccm1"])
    key_before = (tmp_path / "n.key").read_bytes()
    assert problem(pki, tmp_path, ["ccm1", "10.0.0.11"]) == "subject alternative names differ"
    issue(pki, tmp_path, ["ccm1", "10.0.0.11"])
    assert problem(pki, tmp_path, ["ccm1", "10.0.0.11"]) is None
    assert (tmp_path / "n.key").read_bytes() == key_before


def test_expiry_within_renew_days_reissues(pki, tmp_path):
    pki.make_ca(str(tmp_path / "ca.key"), str(tmp_path / "ca.crt"), "CA", 3650)
    issue(pki, tmp_path, ["ccm1"], days=10)
    assert problem(pki, tmp_path, ["ccm1"], renew_days=30) == "expires within renew_days"
    assert problem(pki, tmp_path, ["ccm1"], renew_days=5) is None


def test_a_certificate_from_another_ca_is_reissued(pki, tmp_path):
    pki.make_ca(str(tmp_path / "ca.key"), str(tmp_path / "ca.crt"), "CA", 3650)
    issue(pki, tmp_path, ["ccm1"])
    pki.make_ca(str(tmp_path / "ca.key"), str(tmp_path / "ca.crt"), "CA", 3650)  # same name
    assert problem(pki, tmp_path, ["ccm1"]) == "not signed by the current CA"


def test_a_key_that_does_not_match_is_reissued(pki, tmp_path):
    pki.make_ca(str(tmp_path / "ca.key"), str(tmp_path / "ca.crt"), "CA", 3650)
    issue(pki, tmp_path, ["ccm1"])
    shutil.copy(tmp_path / "ca.key", tmp_path / "n.key")
    assert problem(pki, tmp_path, ["ccm1"]) == "key does not match certificate"


def test_ca_near_expiry_is_remade_and_certificates_never_outlive_it(pki, tmp_path):
    pki.make_ca(str(tmp_path / "ca.key"), str(tmp_path / "ca.crt"), "CA", 20)
    assert pki.ca_problem(str(tmp_path / "ca.key"), str(tmp_path / "ca.crt"), 30) == \
        "expires within renew_days"
    issue(pki, tmp_path, ["ccm1"], days=397)
    cert, ca = pki.load_cert(str(tmp_path / "n.crt")), pki.load_cert(str(tmp_path / "ca.crt"))
    assert cert.not_valid_after_utc <= ca.not_valid_after_utc
    assert cert.not_valid_after_utc < datetime.datetime.now(datetime.UTC) + \
        datetime.timedelta(days=21)


def test_ip_sans_are_ip_entries(pki, tmp_path):
    from cryptography import x509

    pki.make_ca(str(tmp_path / "ca.key"), str(tmp_path / "ca.crt"), "CA", 3650)
    issue(pki, tmp_path, ["lb", "10.231.0.10"])
    san = pki.load_cert(str(tmp_path / "n.crt")).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["10.231.0.10"]
    assert san.get_values_for_type(x509.DNSName) == ["lb"]
