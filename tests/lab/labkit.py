"""Helpers behind the lab fixtures (tests/lab/conftest.py); import from here."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LABCTL = REPO / "lab" / "labctl.py"
VENV_BIN = Path(sys.executable).parent
sys.path.insert(0, str(LABCTL.parent))
import labctl  # noqa: E402  (stdlib-only module next to the CLI)

TOOLS = ("systemd-nspawn", "debootstrap", "ip", "ssh", "ssh-keygen", "mount")


def on_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def lab_unavailable() -> str | None:
    """Why the lab cannot run on this machine, or None when it can."""
    if not sys.platform.startswith("linux"):
        return "the lab needs Linux"
    if os.geteuid() != 0:
        return "the lab needs root (debootstrap, mounts, a bridge, systemd-nspawn)"
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        return f"missing {', '.join(missing)}: run `make host-deps` (tools/host-packages.txt)"
    return None


PACKAGE_SOURCES = ("app/ccmgr", "app/ui", "pyproject.toml", "packaging", "systemd",
                   "requirements/runtime.txt")


def ensure_deb() -> Path:
    """dist/ccmgr_*.deb for site.yml (it installs the newest one): built with `make deb`
    when missing or older than its sources, so a clean checkout deploys its own code."""
    debs = sorted((REPO / "dist").glob("ccmgr_*.deb"), key=lambda p: p.stat().st_mtime)
    if debs:
        built = debs[-1].stat().st_mtime
        newer = [p for src in PACKAGE_SOURCES for p in (
            [REPO / src] if (REPO / src).is_file() else (REPO / src).rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts and "node_modules" not in p.parts
            and p.stat().st_mtime > built]
        if not newer:
            return debs[-1]
    subprocess.run(["make", "--no-print-directory", "deb"], cwd=REPO, check=True,
                   timeout=1800, env=venv_env(LINTIAN="no"))
    return sorted((REPO / "dist").glob("ccmgr_*.deb"), key=lambda p: p.stat().st_mtime)[-1]


def cmonsim_wheelhouse() -> Path:
    """cmonsim and its binary dependencies as wheels for the offline cmon1 (as tools/demo.sh)."""
    wheels = REPO / "build" / "cmonsim-wheelhouse"
    if not list(wheels.glob("cmonsim-*.whl")):
        wheels.mkdir(parents=True, exist_ok=True)
        py = [sys.executable, "-m", "pip"]
        subprocess.run([*py, "wheel", "--quiet", "--no-deps", "-w", str(wheels),
                        str(REPO / "app" / "sim")], check=True, timeout=600, env=venv_env())
        pins = [line for line in (REPO / "requirements" / "runtime.txt").read_text().split()
                if line.split("==")[0] in ("cryptography", "cffi", "pycparser")]
        subprocess.run([*py, "download", "--quiet", "--only-binary=:all:", "--no-deps", "-d",
                        str(wheels), "--python-version", "3.11", "--implementation", "cp",
                        "--abi", "cp311", "--abi", "abi3", "--abi", "none",
                        "--platform", "manylinux_2_28_x86_64", "--platform",
                        "manylinux_2_17_x86_64", "--platform", "manylinux2014_x86_64",
                        "--platform", "any", *pins], check=True, timeout=600, env=venv_env())
    return wheels


def venv_env(**extra: str) -> dict[str, str]:
    """The environment for ansible/molecule: the venv's bin first on PATH."""
    path = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, "PATH": path, "ANSIBLE_CONFIG": str(REPO / "ansible/ansible.cfg"),
            "ANSIBLE_FORCE_COLOR": "0", **extra}


@dataclass
class Lab:
    """A handle on the running lab: paths, hosts, groups and helpers."""

    paths: labctl.Paths
    hosts: dict[str, str] = field(default_factory=dict)  # name -> address
    groups: dict[str, list[str]] = field(default_factory=dict)  # group -> names
    vip: str = labctl.VIRTUAL_ADDRESS  # the service address the balancer pair holds

    @classmethod
    def from_env(cls) -> Lab:
        secondaries = int(os.environ.get("LAB_SECONDARIES", "1"))
        plan = labctl.plan_hosts(secondaries)
        groups: dict[str, list[str]] = {}
        for h in plan:
            groups.setdefault(h.group, []).append(h.name)
        groups["ccm"] = groups["ccm_primary"] + groups["ccm_secondary"]
        groups["all"] = [h.name for h in plan]
        return cls(labctl.Paths.from_env(), {h.name: h.address for h in plan}, groups)

    @property
    def inventory(self) -> Path:
        return self.paths.inventory

    @property
    def ssh_config(self) -> Path:
        return self.paths.ssh_config

    @property
    def key(self) -> Path:
        return self.paths.key

    @property
    def known_hosts(self) -> Path:
        return self.paths.known_hosts

    @property
    def url(self) -> str:
        """The service's URL (the balancers' virtual address)."""
        return f"https://{self.vip}/"

    def admin_password(self) -> str:
        """The site's admin password (site.yml keeps it in the lab's secrets)."""
        return (self.paths.state / "secrets" / "ccmgr-admin-password").read_text().strip()

    def node_session(self, node: str):  # -> tuple[requests.Session, str]
        """An admin session through the balancer pinned to ``node`` with HAProxy's SVR
        cookie (the nodes take HTTPS from the balancers and peers only), and its URL."""
        import requests

        s = requests.Session()
        s.trust_env = False
        s.verify = str(self.paths.state / "pki" / "ca.crt")
        s.cookies.set("SVR", node, domain=self.vip)
        url = f"https://{self.vip}"
        reply = s.post(f"{url}/proxy/auth/login", timeout=30,
                       json={"username": "admin", "password": self.admin_password()})
        assert reply.status_code == 200, reply.text
        return s, url

    def start_simulators(self) -> None:
        """The simulated controllers the site's seeded controllers point at (cmon1;
        ansible/cmonsim.yml, idempotent)."""
        self.playbook("ansible/cmonsim.yml", "-e", f"cmonsim_wheelhouse={cmonsim_wheelhouse()}")

    def vip_holders(self) -> list[str]:
        """The balancers that have the virtual address on an interface right now."""
        return [name for name in self.groups["loadbalancer"]
                if f" {self.vip}/" in self.ssh(name, "ip -o -4 addr show", check=False,
                                               timeout=15).stdout]

    def active_balancer(self, timeout: float = 10) -> str:
        """The one balancer holding the virtual address (waits up to ``timeout`` for
        exactly one: during a failover there may briefly be none, or two)."""
        deadline = time.monotonic() + timeout
        while True:
            holders = self.vip_holders()
            if len(holders) == 1 or time.monotonic() > deadline:
                assert len(holders) == 1, f"{self.vip} is held by {holders or 'no balancer'}"
                return holders[0]
            time.sleep(0.2)

    def labctl(self, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess:
        """Run lab/labctl.py; output is captured (and shown when a test fails)."""
        proc = subprocess.run([sys.executable, str(LABCTL), *args], capture_output=True,
                              text=True, timeout=timeout)
        print(proc.stdout, proc.stderr, sep="\n")
        return proc

    def up(self) -> subprocess.CompletedProcess:
        proc = self.labctl("up", "--secondaries", str(len(self.groups["ccm_secondary"])))
        assert proc.returncode == 0, f"labctl up failed:\n{proc.stdout}\n{proc.stderr}"
        return proc

    def down(self) -> None:
        proc = self.labctl("down", timeout=300)
        assert proc.returncode == 0, f"labctl down failed:\n{proc.stdout}\n{proc.stderr}"

    def ssh_argv(self, host: str, command: str) -> list[str]:
        return ["ssh", "-F", str(self.ssh_config), host, command]

    def ssh(self, host: str, command: str, check: bool = True,
            timeout: float = 60) -> subprocess.CompletedProcess:
        """Run a shell command as root on a lab host (pinned host keys, lab key)."""
        proc = subprocess.run(self.ssh_argv(host, command), capture_output=True, text=True,
                              timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"{host}: {command!r} exited {proc.returncode}:\n"
                                 f"{proc.stdout}\n{proc.stderr}")
        return proc

    def host(self, name: str):  # -> testinfra.host.Host
        """A testinfra Host for a lab host, over the ssh backend with the lab's ssh config."""
        import testinfra

        return testinfra.get_host(f"ssh://{name}", ssh_config=str(self.ssh_config))

    def playbook(self, playbook: str, *args: str, timeout: float = 1800,
                 check: bool = True) -> subprocess.CompletedProcess:
        """ansible-playbook from the venv against the lab inventory (path from repo root);
        ``check``: fail unless it succeeded."""
        cmd = [str(VENV_BIN / "ansible-playbook"), "-i", str(self.inventory),
               str(REPO / playbook), *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env=venv_env(), cwd=REPO)
        print(proc.stdout[-20000:], proc.stderr[-5000:], sep="\n")
        assert not check or proc.returncode == 0, \
            f"{' '.join(cmd)} failed:\n{proc.stdout[-5000:]}"
        return proc


def lab_leftovers(paths: labctl.Paths) -> list[str]:
    """Everything a lab leaves on the machine; empty after `labctl.py down`."""
    found = [f"nspawn pid {pid} ({name})" for pid, name in labctl.nspawn_pids(paths).items()]
    found += [f"link {link}" for link in Path("/sys/class/net").iterdir()
              if link.name == labctl.BRIDGE or link.name.startswith("vb-")]
    found += [f"mount {m}" for m in labctl.mounts_under(paths.state)]
    found += [f"cgroup {g}" for g in labctl.cgroup_hierarchies() if (g / "ccmgr-lab").exists()]
    found += [f"host process {pid}" for pid in labctl.cgroup_tasks()]
    found += [f"nspawn runtime {p}" for p in Path("/run/systemd/nspawn").glob("*/*")]
    if paths.state.exists():
        found.append(f"state dir {paths.state}")
    found += [f"partial image {p}" for p in paths.cache.glob("base-*.partial")]
    return found
