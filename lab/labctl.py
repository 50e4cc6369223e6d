#!/usr/bin/env python3
"""labctl: the ccmgr multi-host lab on one machine.

Debian 12 hosts booted with systemd as PID 1 by systemd-nspawn, each with its own
address on a private bridge, sshd, host keys and machine-id. Stdlib only, so it runs
before any virtual environment exists. See docs/lab.md.

    labctl.py up [--secondaries N]   create the bridge and hosts (idempotent)
    labctl.py down                   stop everything and remove all traces
    labctl.py status                 each host: address, running, ssh
    labctl.py ssh HOST [CMD...]      root shell (or a command) on a host
    labctl.py stop HOST [--hard]     power a host off (--hard: a power cut), keep its disk
    labctl.py start HOST             boot a stopped host again from its own disk
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGES_FILE = HERE / "image-packages.txt"
# Bump when build_image()'s customisation changes: it is part of the cache key.
IMAGE_RECIPE = "1"
SUITE = "bookworm"
BRIDGE = "ccmlab0"
NET = "10.231.0"
PREFIX_LEN = 24
GATEWAY = f"{NET}.1"
MAX_SECONDARIES = 8  # ccm2 .. ccm9 use .12 .. .19; cmon1 is .20
# The balancer pair (lb1 .8, lb2 .9) holds the service's virtual address with keepalived
# (VRRP); it is no host of its own. It is where the single balancer used to be, so the
# demo's URL did not change.
VIRTUAL_ADDRESS = f"{NET}.10"
BOOT_TIMEOUT = 120.0  # seconds for a host to answer ssh and finish booting
STOP_TIMEOUT = 30.0  # seconds between SIGTERM and SIGKILL

STARTED = time.monotonic()


class LabError(Exception):
    """A failure to report as one line, exit code 1."""


# ---------------------------------------------------------------- configuration


@dataclass(frozen=True)
class Host:
    name: str
    address: str
    group: str


def plan_hosts(secondaries: int = 1) -> list[Host]:
    """The lab's hosts for a given number of secondaries (ccm2, ccm3, ...)."""
    if not 1 <= secondaries <= MAX_SECONDARIES:
        raise LabError(f"secondaries must be 1..{MAX_SECONDARIES}, got {secondaries}")
    hosts = [Host("lb1", f"{NET}.8", "loadbalancer"), Host("lb2", f"{NET}.9", "loadbalancer"),
             Host("ccm1", f"{NET}.11", "ccm_primary")]
    hosts += [Host(f"ccm{i + 2}", f"{NET}.{12 + i}", "ccm_secondary") for i in range(secondaries)]
    hosts.append(Host("cmon1", f"{NET}.20", "cmon_sim"))
    return hosts


@dataclass(frozen=True)
class Paths:
    """Where the lab keeps its state (removed by down) and its cache (kept)."""

    state: Path
    cache: Path

    @classmethod
    def from_env(cls) -> Paths:
        return cls(
            Path(os.environ.get("LAB_DIR", "/var/lib/ccmgr-lab")),
            Path(os.environ.get("LAB_CACHE", "/var/cache/ccmgr-lab")),
        )

    @property
    def hosts_dir(self) -> Path:
        return self.state / "hosts"

    @property
    def key(self) -> Path:
        return self.state / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.state / "known_hosts"

    @property
    def ssh_config(self) -> Path:
        return self.state / "ssh_config"

    @property
    def inventory(self) -> Path:
        return self.state / "inventory.yml"

    @property
    def state_file(self) -> Path:
        return self.state / "lab.json"

    def root(self, name: str) -> Path:
        return self.hosts_dir / name / "root"

    def pidfile(self, name: str) -> Path:
        return self.hosts_dir / name / "nspawn.pid"

    def log(self, name: str) -> Path:
        return self.cache / "logs" / f"{name}.log"


# ---------------------------------------------------------------- small helpers


def say(msg: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f}s] {msg}", flush=True)


def run(*cmd: str, check: bool = True, timeout: float = 120, quiet: bool = False) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise LabError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")
    if proc.returncode != 0 and not quiet:
        say(f"note: {' '.join(cmd)}: {proc.stderr.strip()}")
    return proc.stdout


def write_if_changed(path: Path, text: str, mode: int = 0o644) -> bool:
    if path.exists() and path.read_text() == text:
        return False
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.chmod(mode)
    tmp.replace(path)
    return True


@contextlib.contextmanager
def locked(paths: Paths, wait: float = 600) -> Iterator[None]:
    """One labctl at a time (up and down must not interleave)."""
    paths.cache.mkdir(parents=True, exist_ok=True)
    with open(paths.cache / "labctl.lock", "w") as fh:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LabError("another labctl is still running") from None
                time.sleep(1)
        yield


# ---------------------------------------------------------------- base image


def read_packages() -> list[str]:
    lines = (ln.split("#", 1)[0].strip() for ln in PACKAGES_FILE.read_text().splitlines())
    return [ln for ln in lines if ln]


def image_key() -> str:
    digest = hashlib.sha256(PACKAGES_FILE.read_bytes())
    digest.update(f"{SUITE}:{IMAGE_RECIPE}".encode())
    return digest.hexdigest()[:16]


def _deb822_stanzas(text: str) -> Iterator[dict[str, str]]:
    stanza: dict[str, str] = {}
    for line in [*text.splitlines(), ""]:
        if line.startswith("#"):
            continue
        if not line.strip():
            if stanza:
                yield stanza
            stanza = {}
        elif not line[0].isspace() and ":" in line:
            key, value = line.split(":", 1)
            stanza[key.strip().lower()] = value.strip()


def apt_mirror(suite: str = SUITE, etc: Path = Path("/etc/apt")) -> tuple[str, str | None]:
    """The Debian mirror (and keyring) this machine's apt uses for `suite`."""
    for path in sorted((etc / "sources.list.d").glob("*.sources")):
        for st in _deb822_stanzas(path.read_text()):
            if st.get("enabled", "yes").lower() == "no" or "deb" not in st.get("types", ""):
                continue
            if suite in st.get("suites", "").split() and st.get("uris"):
                keyring = st.get("signed-by")
                return st["uris"].split()[0], keyring if keyring and keyring[0] == "/" else None
    lists = [etc / "sources.list", *sorted((etc / "sources.list.d").glob("*.list"))]
    for path in lists:
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            words = [w for w in line.split("#", 1)[0].split() if not w.startswith("[")]
            words = [w for w in words if "=" not in w and not w.endswith("]")]
            if len(words) >= 3 and words[0] == "deb" and words[2] == suite:
                return words[1], None
    raise LabError(f"no 'deb ... {suite}' entry in {etc}/sources.list(.d): cannot pick a mirror")


def _debootstrap(target: Path) -> None:
    mirror, keyring = apt_mirror()
    cmd = ["debootstrap", "--variant=minbase", "--components=main",
           "--include=" + ",".join(read_packages())]
    if keyring:
        cmd.append(f"--keyring={keyring}")
    cmd += [SUITE, str(target), mirror]
    say(f"debootstrap {SUITE} from {mirror} ({len(read_packages())} packages listed)")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    # One line per phase (Retrieving, Extracting, Unpacking, ...), a count every 10 s.
    phase, count, last_print, tail = "", 0, time.monotonic(), []
    for line in proc.stdout:
        tail = [*tail[-20:], line.rstrip()]
        words = line.split()
        verb = words[1] if len(words) > 1 and words[0] == "I:" else phase
        verb = "Retrieving" if verb == "Validating" else verb
        count = count + 1 if verb == phase else 1
        if verb != phase:
            say(f"  debootstrap: {line.strip()}")
        elif time.monotonic() - last_print > 10:
            say(f"  debootstrap: {phase} ... {count // (2 if phase == 'Retrieving' else 1)}")
        else:
            continue
        phase, last_print = verb, time.monotonic()
    if proc.wait() != 0:
        raise LabError("debootstrap failed:\n" + "\n".join(tail))


def _customise_image(root: Path) -> None:
    """Make the image a good template: no identity of its own, networkd, no net timers."""
    (root / "etc/machine-id").write_text("")
    with contextlib.suppress(FileNotFoundError):
        (root / "var/lib/dbus/machine-id").unlink()
    for key in (root / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    (root / "etc/ssh/sshd_config.d/lab.conf").write_text(
        "# ccmgr lab: per-host ed25519 key written by labctl; key-only root login\n"
        "HostKey /etc/ssh/ssh_host_ed25519_key\nPasswordAuthentication no\nUseDNS no\n"
    )
    (root / "etc/resolv.conf").unlink(missing_ok=True)
    (root / "etc/resolv.conf").write_text("# lab hosts have no DNS: names are in /etc/hosts\n")
    systemctl = ["systemctl", f"--root={root}"]
    run(*systemctl, "enable", "systemd-networkd.service")
    # Lab hosts have no route to any mirror: these timers could only fail.
    run(*systemctl, "mask", "apt-daily.timer", "apt-daily-upgrade.timer")
    shutil.rmtree(root / "var/cache/apt/archives", ignore_errors=True)
    (root / "var/cache/apt/archives/partial").mkdir(parents=True)


def ensure_image(paths: Paths) -> Path:
    """The cached base image for the current package list; built once (~minutes)."""
    final = paths.cache / f"base-{image_key()}"
    if final.is_dir():
        say(f"base image cached: {final}")
        return final
    partial = final.with_name(final.name + ".partial")
    cleanup_mounts(partial)
    shutil.rmtree(partial, ignore_errors=True)
    say(f"building base image {final.name} (one-off, a few minutes)")
    _debootstrap(partial)
    _customise_image(partial)
    partial.rename(final)
    busy = bool(nspawn_pids(paths) or mounts_under(paths.state))
    for old in paths.cache.glob("base-*"):
        if old != final and not busy:  # running hosts may sit on an old image
            say(f"removing stale image {old.name}")
            cleanup_mounts(old)
            shutil.rmtree(old, ignore_errors=True)
    say(f"base image ready: {final}")
    return final


# ---------------------------------------------------------------- processes and mounts


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return raw.decode(errors="replace").split("\0")[:-1]


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def nspawn_pids(paths: Paths) -> dict[int, str]:
    """systemd-nspawn processes running a root under our hosts dir: pid -> host name.

    Found by the root directory on their command line (ours alone), never by name.
    """
    found: dict[int, str] = {}
    prefix = str(paths.hosts_dir) + "/"
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        argv = _cmdline(int(entry.name))
        if not argv or Path(argv[0]).name != "systemd-nspawn" or "-D" not in argv:
            continue
        root = argv[argv.index("-D") + 1] if argv.index("-D") + 1 < len(argv) else ""
        if root.startswith(prefix) and _alive(int(entry.name)):
            found[int(entry.name)] = Path(root).parent.name
    return found


def host_pid(paths: Paths, name: str) -> int | None:
    """The tracked nspawn PID of a host, if that process is still ours and alive."""
    try:
        pid = int(paths.pidfile(name).read_text())
    except (OSError, ValueError):
        return None
    return pid if nspawn_pids(paths).get(pid) == name else None


def stop_pids(pids: dict[int, str], timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM (clean poweroff of the host), wait, then SIGKILL what is left."""
    for pid, name in pids.items():
        say(f"stopping {name} (nspawn pid {pid})")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    for sig, wait in ((signal.SIGKILL, timeout), (None, 10.0)):
        deadline = time.monotonic() + wait
        while any(_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [p for p in pids if _alive(p)]
        if not left:
            return
        if sig is None:
            raise LabError(f"processes did not exit: {left}")
        for pid in left:
            say(f"{pids[pid]} did not stop within {wait:.0f}s: SIGKILL {pid}")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)


def remove_nspawn_runtime(paths: Paths, names: list[str]) -> None:
    """What a killed nspawn leaves in /run/systemd/nspawn for our (stopped) hosts: the lock
    on each root (locks/inode-<dev>:<ino>) and propagate/<name>; then the dirs if empty."""
    run_dir = Path("/run/systemd/nspawn")
    for name in names:
        with contextlib.suppress(OSError):
            st = paths.root(name).stat()
            (run_dir / f"locks/inode-{st.st_dev}:{st.st_ino}").unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            (run_dir / "propagate" / name).rmdir()
    for empty in ("propagate", "locks", ""):
        with contextlib.suppress(OSError):
            (run_dir / empty).rmdir()


def mounts_under(path: Path) -> list[str]:
    prefix = str(path).rstrip("/")
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point == prefix or point.startswith(prefix + "/"):
            found.append(point)
    return found


def cleanup_mounts(path: Path) -> None:
    for point in sorted(set(mounts_under(path)), key=len, reverse=True):
        if subprocess.run(["umount", point], capture_output=True).returncode != 0:
            run("umount", "--lazy", point, check=False)


# ---------------------------------------------------------------- network


def link_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


def ensure_bridge() -> bool:
    changed = False
    if not link_exists(BRIDGE):
        say(f"creating bridge {BRIDGE} {GATEWAY}/{PREFIX_LEN}")
        run("ip", "link", "add", BRIDGE, "type", "bridge")
        changed = True
    v6 = Path(f"/proc/sys/net/ipv6/conf/{BRIDGE}/disable_ipv6")
    if v6.exists() and v6.read_text().strip() != "1":
        v6.write_text("1")
    if f" {GATEWAY}/{PREFIX_LEN} " not in run("ip", "-o", "-4", "addr", "show", "dev", BRIDGE):
        run("ip", "addr", "add", f"{GATEWAY}/{PREFIX_LEN}", "dev", BRIDGE)
        changed = True
    if "UP" not in run("ip", "-o", "link", "show", BRIDGE).split(">")[0]:
        run("ip", "link", "set", BRIDGE, "up")
        changed = True
    return changed


def lab_links() -> list[str]:
    """Our bridge and every link enslaved to it (the hosts' outer veth ends)."""
    if not link_exists(BRIDGE):
        return []
    ports = [p.name for p in Path(f"/sys/class/net/{BRIDGE}/brif").iterdir()]
    return [*ports, BRIDGE]


# ---------------------------------------------------------------- one host


def hosts_file(hosts: list[Host]) -> str:
    # No "127.0.1.1 <name>" line: each host's own name resolves to its lab address.
    lines = ["127.0.0.1\tlocalhost\n", "::1\tlocalhost ip6-localhost ip6-loopback\n",
             "# ccmgr lab hosts (written by lab/labctl.py)\n"]
    lines += [f"{h.address}\t{h.name}\n" for h in hosts]
    return "".join(lines)


def create_host(paths: Paths, host: Host, hosts: list[Host], image: Path, mode: str) -> None:
    """A fresh root for one host (overlay on the image, or a full copy) with its identity."""
    hdir = paths.hosts_dir / host.name
    root = paths.root(host.name)
    root.mkdir(parents=True)
    if mode == "overlay":
        (hdir / "upper").mkdir()
        (hdir / "work").mkdir()
        opts = f"lowerdir={image},upperdir={hdir / 'upper'},workdir={hdir / 'work'}"
        run("mount", "-t", "overlay", "overlay", "-o", opts, str(root))
    else:
        run("cp", "-a", "--reflink=auto", f"{image}/.", str(root), timeout=600)
    etc = root / "etc"
    (etc / "hostname").write_text(host.name + "\n")
    (etc / "machine-id").write_text(uuid.uuid4().hex + "\n")
    (etc / "hosts").write_text(hosts_file(hosts))
    (etc / "systemd/network/10-lab.network").write_text(
        f"[Match]\nName=host0\n\n[Network]\nAddress={host.address}/{PREFIX_LEN}\n"
        "LinkLocalAddressing=no\nIPv6AcceptRA=no\n"
    )
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"root@{host.name}",
        "-f", str(etc / "ssh/ssh_host_ed25519_key"))
    ssh_dir = root / "root/.ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    (ssh_dir / "authorized_keys").write_text(paths.key.with_suffix(".pub").read_text())
    (ssh_dir / "authorized_keys").chmod(0o600)


def cgroup_hierarchies() -> list[Path]:
    """Mount points of the cgroup2 and the name=systemd v1 hierarchies (if any)."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        fstype, super_opts = fields[fields.index("-") + 1], fields[-1]
        if fstype == "cgroup2" or (fstype == "cgroup" and "name=systemd" in super_opts):
            found.append(Path(fields[4]))
    return found


def host_cgroups(name: str) -> list[Path]:
    """Each host's own cgroup. Without it every nspawn run with --keep-unit shares the
    caller's cgroup, their systemds share /payload, and units fail at random with
    "Failed to attach to cgroup ...: No such file or directory" (status=219/CGROUP)."""
    return [h / "ccmgr-lab" / name for h in cgroup_hierarchies()]


def _enter_cgroups(groups: list[Path]) -> None:
    for group in groups:
        (group / "cgroup.procs").write_text(str(os.getpid()))


def cgroup_tasks(name: str | None = None) -> set[int]:
    """Live processes in the lab's (or one host's) cgroups: a host's systemd and services."""
    pids: set[int] = set()
    for top in [h / "ccmgr-lab" for h in cgroup_hierarchies()]:
        base = top / name if name else top
        for procs in base.rglob("cgroup.procs") if base.is_dir() else ():
            with contextlib.suppress(OSError, ValueError):
                pids |= {int(p) for p in procs.read_text().split()}
    return {p for p in pids if _alive(p)}


def kill_cgroup_tasks(name: str | None = None, timeout: float = 15.0) -> None:
    """SIGKILL what is left in our cgroups once nspawn is gone. A SIGKILLed nspawn leaves
    its host's systemd and services running; killing that init ends its PID namespace."""
    deadline = time.monotonic() + timeout
    while pids := cgroup_tasks(name):
        if time.monotonic() > deadline:
            raise LabError(f"processes left in the lab's cgroups: {sorted(pids)}")
        say(f"killing {len(pids)} leftover host processes" + (f" of {name}" if name else ""))
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)


def remove_cgroups(name: str | None = None) -> None:
    """rmdir the lab's (or one host's) cgroups, deepest first; they hold no tasks by now."""
    for top in [h / "ccmgr-lab" for h in cgroup_hierarchies()]:
        base = top / name if name else top
        if not base.is_dir():
            continue
        for dirpath, _dirs, _files in sorted(os.walk(base), key=lambda w: -len(w[0])):
            with contextlib.suppress(OSError):
                os.rmdir(dirpath)
        if name:
            with contextlib.suppress(OSError):
                top.rmdir()


def start_host(paths: Paths, host: Host) -> int:
    paths.log(host.name).parent.mkdir(parents=True, exist_ok=True)
    cmd = ["systemd-nspawn", "--register=no", "--keep-unit", "--settings=no",
           "-D", str(paths.root(host.name)), "-M", host.name, f"--network-bridge={BRIDGE}",
           "--resolv-conf=off", "--timezone=off", "--link-journal=no",
           "--console=read-only", "-b"]
    env = {**os.environ, "SYSTEMD_NSPAWN_UNIFIED_HIERARCHY": "1"}
    groups = host_cgroups(host.name)
    for group in groups:
        group.mkdir(parents=True, exist_ok=True)
    with open(paths.log(host.name), "wb") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                preexec_fn=lambda: _enter_cgroups(groups))
    paths.pidfile(host.name).write_text(f"{proc.pid}\n")
    say(f"booting {host.name} {host.address} (nspawn pid {proc.pid})")
    return proc.pid


def destroy_host(paths: Paths, name: str) -> None:
    pids = {p: n for p, n in nspawn_pids(paths).items() if n == name}
    if pids:
        stop_pids(pids)
    kill_cgroup_tasks(name)
    remove_cgroups(name)
    remove_nspawn_runtime(paths, [name])
    hdir = paths.hosts_dir / name
    cleanup_mounts(hdir)
    shutil.rmtree(hdir, ignore_errors=True)


def ssh_cmd(paths: Paths, name: str, *command: str) -> list[str]:
    return ["ssh", "-F", str(paths.ssh_config), name, *command]


def ssh_answers(address: str, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((address, 22), timeout=timeout) as sock:
            sock.settimeout(timeout)
            return sock.recv(4).startswith(b"SSH-")
    except OSError:
        return False


def wait_booted(paths: Paths, host: Host, deadline: float) -> str:
    """Wait until sshd answers and systemd finished booting; returns the system state."""
    veth = f"vb-{host.name}"
    while time.monotonic() < deadline:
        if link_exists(veth):
            run("ip", "link", "set", veth, "up")
            break
        if host_pid(paths, host.name) is None:
            raise LabError(f"{host.name}: systemd-nspawn exited; see {paths.log(host.name)}")
        time.sleep(0.2)
    while time.monotonic() < deadline and not ssh_answers(host.address):
        if host_pid(paths, host.name) is None:
            raise LabError(f"{host.name}: systemd-nspawn exited; see {paths.log(host.name)}")
        time.sleep(0.5)
    left = max(deadline - time.monotonic(), 1.0)
    try:
        proc = subprocess.run(ssh_cmd(paths, host.name, "systemctl", "is-system-running", "--wait"),
                              capture_output=True, text=True, timeout=left)
    except subprocess.TimeoutExpired:
        raise LabError(f"{host.name}: not booted within {BOOT_TIMEOUT:.0f}s") from None
    state = proc.stdout.strip()
    if proc.returncode != 0 and state not in ("degraded", "running"):
        raise LabError(f"{host.name}: ssh failed ({proc.returncode}): {proc.stderr.strip()}")
    if state == "degraded":
        failed = run(*ssh_cmd(paths, host.name, "systemctl", "--failed", "--plain",
                              "--no-legend"), check=False)
        state += " (failed: " + ", ".join(ln.split()[0] for ln in failed.splitlines()) + ")"
    return state


# ---------------------------------------------------------------- generated files


def to_yaml(data: dict, indent: int = 0) -> str:
    """Enough YAML for an inventory: nested mappings of strings and numbers."""
    out = []
    for key, value in data.items():
        pad = " " * indent
        if isinstance(value, dict) and value:
            out.append(f"{pad}{key}:\n{to_yaml(value, indent + 2)}")
        elif isinstance(value, dict):
            out.append(f"{pad}{key}: {{}}\n")
        else:
            out.append(f"{pad}{key}: {json.dumps(value)}\n")
    return "".join(out)


def inventory(paths: Paths, hosts: list[Host]) -> dict:
    """The lab inventory (groups as in docs/lab.md) as a dict for YAML or JSON."""

    def group(name: str) -> dict:
        return {"hosts": {h.name: {"ansible_host": h.address} for h in hosts if h.group == name}}

    ssh_args = (f"-o UserKnownHostsFile={paths.known_hosts} -o GlobalKnownHostsFile=/dev/null "
                "-o StrictHostKeyChecking=yes -o IdentitiesOnly=yes")
    return {"all": {
        "vars": {
            "ansible_user": "root",
            "ansible_ssh_private_key_file": str(paths.key),
            "ansible_ssh_common_args": ssh_args,
            "ansible_python_interpreter": "/usr/bin/python3",
            "lab_network": f"{NET}.0/{PREFIX_LEN}",
            "lab_virtual_address": VIRTUAL_ADDRESS,
        },
        "children": {
            "loadbalancer": group("loadbalancer"),
            "ccm": {"children": {"ccm_primary": group("ccm_primary"),
                                 "ccm_secondary": group("ccm_secondary")}},
            "cmon_sim": group("cmon_sim"),
        },
    }}


def ssh_config(paths: Paths, hosts: list[Host]) -> str:
    text = "# Generated by lab/labctl.py: ssh -F <this file> <host>\n"
    text += "".join(f"Host {h.name} {h.address}\n    HostName {h.address}\n" for h in hosts)
    return text + (
        "Host *\n    User root\n"
        f"    IdentityFile {paths.key}\n    IdentitiesOnly yes\n"
        f"    UserKnownHostsFile {paths.known_hosts}\n    GlobalKnownHostsFile /dev/null\n"
        "    StrictHostKeyChecking yes\n    BatchMode yes\n    ConnectTimeout 5\n"
        "    LogLevel ERROR\n"
    )


def known_hosts(paths: Paths, hosts: list[Host]) -> str:
    lines = []
    for h in hosts:
        pub = (paths.root(h.name) / "etc/ssh/ssh_host_ed25519_key.pub").read_text().split()
        lines.append(f"{h.name},{h.address} {pub[0]} {pub[1]}\n")
    return "".join(lines)


def write_outputs(paths: Paths, hosts: list[Host], mode: str, image: Path) -> list[str]:
    state = {"hosts": [asdict(h) for h in hosts], "rootfs": mode, "image": str(image)}
    outputs = [
        (paths.state_file, json.dumps(state, indent=2) + "\n", 0o644),
        (paths.inventory, "# Generated by lab/labctl.py\n" + to_yaml(inventory(paths, hosts)),
         0o644),
        (paths.ssh_config, ssh_config(paths, hosts), 0o644),
        (paths.known_hosts, known_hosts(paths, hosts), 0o644),
    ]
    return [str(p) for p, text, mode_ in outputs if write_if_changed(p, text, mode_)]


def load_state(paths: Paths) -> dict:
    try:
        return json.loads(paths.state_file.read_text())
    except (OSError, ValueError):
        return {}


def load_hosts(paths: Paths) -> list[Host]:
    try:
        return [Host(**h) for h in load_state(paths).get("hosts", [])]
    except TypeError:
        return []


# ---------------------------------------------------------------- commands


def up(paths: Paths, secondaries: int, mode: str) -> int:
    hosts = plan_hosts(secondaries)
    for tool in ("debootstrap", "systemd-nspawn", "ip", "ssh", "ssh-keygen"):
        if shutil.which(tool) is None:
            raise LabError(f"{tool} not found: apt-get install debootstrap systemd-container "
                           "iproute2 openssh-client")
    if os.geteuid() != 0:
        raise LabError("the lab needs root (debootstrap, mounts, bridge, systemd-nspawn)")
    with locked(paths):
        paths.hosts_dir.mkdir(parents=True, exist_ok=True)
        paths.state.chmod(0o700)
        image = ensure_image(paths)
        if not paths.key.exists():
            run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ccmgr-lab-control",
                "-f", str(paths.key))
        paths.key.chmod(0o600)
        changed = ensure_bridge()
        wanted = {h.name for h in hosts}
        existing = {p.name for p in paths.hosts_dir.iterdir()} | set(nspawn_pids(paths).values())
        for name in sorted(existing - wanted):
            say(f"removing {name} (not in this lab's plan)")
            destroy_host(paths, name)
            changed = True
        same_image = load_state(paths).get("image") == str(image)
        fresh = [h for h in hosts if not same_image or host_pid(paths, h.name) is None]
        if load_hosts(paths) not in ([], hosts):  # the plan changed: tell the kept hosts
            for host in (h for h in hosts if h not in fresh):
                say(f"{host.name}: rewriting /etc/hosts for the new host list")
                (paths.root(host.name) / "etc/hosts").write_text(hosts_file(hosts))
        for host in fresh:
            destroy_host(paths, host.name)
            say(f"creating {host.name} ({mode} on {image.name})")
            create_host(paths, host, hosts, image, mode)
        written = write_outputs(paths, hosts, mode, image)
        for host in fresh:
            start_host(paths, host)
        deadline = time.monotonic() + BOOT_TIMEOUT
        for host in fresh:
            say(f"{host.name}: {wait_booted(paths, host, deadline)}")
        for host in hosts:
            if not ssh_answers(host.address, timeout=3):
                raise LabError(f"{host.name} ({host.address}) does not answer on ssh")
        if not (fresh or written or changed):
            say("lab already up: nothing changed")
        say(f"lab up: {len(hosts)} hosts; inventory {paths.inventory}")
    return 0


def down(paths: Paths) -> int:
    """Remove every trace of the lab; safe to run any number of times, after any failure."""
    with locked(paths):
        pids = nspawn_pids(paths)
        if pids:
            stop_pids(pids)
        kill_cgroup_tasks()  # hosts whose nspawn was killed keep running otherwise
        remove_cgroups()
        names = {h.name for h in load_hosts(paths)} | {d.name for d in paths.hosts_dir.glob("*")}
        for link in lab_links():
            say(f"deleting link {link}")
            run("ip", "link", "del", link, check=False)
        for name in names:
            if link_exists(f"vb-{name}"):
                run("ip", "link", "del", f"vb-{name}", check=False)
        remove_nspawn_runtime(paths, sorted(names))
        for area in (paths.state, *paths.cache.glob("base-*.partial")):
            if mounts_under(area):
                say(f"unmounting under {area}")
                cleanup_mounts(area)
            if mounts_under(area):
                raise LabError(f"still mounted under {area}: {mounts_under(area)}")
        for partial in paths.cache.glob("base-*.partial"):
            shutil.rmtree(partial, ignore_errors=True)
        if paths.state.exists():
            say(f"removing {paths.state}")
            shutil.rmtree(paths.state)
        say("lab down")
    return 0


def _planned(paths: Paths, name: str) -> Host:
    host = next((h for h in load_hosts(paths) if h.name == name), None)
    if host is None:
        names = ", ".join(h.name for h in load_hosts(paths)) or "none (down)"
        raise LabError(f"unknown host {name!r}; lab hosts: {names}")
    return host


def stop(paths: Paths, name: str, hard: bool) -> int:
    """Power one host off and keep its root (start boots it again). Clean: SIGTERM to its
    nspawn (systemd shuts the host down). Hard: SIGKILL to nspawn and everything in the
    host's cgroup at once, as a power cut: no service gets to say goodbye."""
    host = _planned(paths, name)
    with locked(paths):
        pids = {p: n for p, n in nspawn_pids(paths).items() if n == host.name}
        if hard:
            # cgroup.kill (cgroup2) SIGKILLs every process of the host in one step: killed
            # one by one, the host's systemd could notice nspawn's death and begin a clean
            # shutdown (keepalived would still send its goodbye advert).
            say(f"power cut: SIGKILL every process of {host.name} (nspawn pid "
                f"{', '.join(map(str, pids)) or 'none'})")
            for group in host_cgroups(host.name):
                with contextlib.suppress(OSError):
                    (group / "cgroup.kill").write_text("1")
            for pid in pids:  # without cgroup2, or if nspawn left the cgroup
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        elif pids:
            stop_pids(pids)
        kill_cgroup_tasks(host.name)
        remove_cgroups(host.name)  # start makes fresh ones; the old ones hold systemd's tree
        remove_nspawn_runtime(paths, [host.name])
        if link_exists(f"vb-{host.name}"):
            run("ip", "link", "del", f"vb-{host.name}", check=False)
        say(f"{host.name} is off (its root is kept: `labctl.py start {host.name}`)")
    return 0


def start(paths: Paths, name: str) -> int:
    """Boot a host that `stop` powered off, from its kept root."""
    host = _planned(paths, name)
    with locked(paths):
        if host_pid(paths, host.name) is not None:
            say(f"{host.name} is already running")
            return 0
        if not (paths.root(host.name) / "etc/hostname").exists():
            raise LabError(f"{host.name} has no root to boot; run `labctl.py up`")
        start_host(paths, host)
        say(f"{host.name}: {wait_booted(paths, host, time.monotonic() + BOOT_TIMEOUT)}")
    return 0


def status(paths: Paths) -> int:
    hosts = load_hosts(paths)
    if not hosts:
        print("lab is down (no hosts)")
        return 3
    ok = True
    print(f"{'HOST':8} {'ADDRESS':13} {'GROUP':14} {'RUNNING':14} {'SSH':5} SYSTEM")
    for h in hosts:
        pid = host_pid(paths, h.name)
        answers = ssh_answers(h.address)
        state = "-"
        if answers:
            try:
                state = subprocess.run(ssh_cmd(paths, h.name, "systemctl", "is-system-running"),
                                       capture_output=True, text=True, timeout=10).stdout.strip()
            except subprocess.TimeoutExpired:
                state = "timeout"
        ok = ok and pid is not None and answers
        running = f"yes (pid {pid})" if pid else "no"
        print(f"{h.name:8} {h.address:13} {h.group:14} {running:14} {'yes' if answers else 'no':5} "
              f"{state}")
    print(f"inventory: {paths.inventory}\nssh:       ssh -F {paths.ssh_config} <host>")
    return 0 if ok else 1


def ssh(paths: Paths, name: str, command: list[str]) -> int:
    names = [h.name for h in load_hosts(paths)]
    if name not in names:
        raise LabError(f"unknown host {name!r}; lab hosts: {', '.join(names) or 'none (down)'}")
    cmd = ssh_cmd(paths, name, *command)
    os.execvp(cmd[0], cmd)  # noqa: S606 (argv list, no shell)
    return 1  # not reached


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="labctl.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_up = sub.add_parser("up", help="create and boot the lab (idempotent)")
    p_up.add_argument("--secondaries", type=int,
                      default=int(os.environ.get("LAB_SECONDARIES", "1")),
                      help="hosts in ccm_secondary (default 1, env LAB_SECONDARIES)")
    p_up.add_argument("--rootfs", choices=("overlay", "copy"),
                      default=os.environ.get("LAB_ROOTFS", "overlay"),
                      help="each host's root: overlay on the image (default) or a full copy")
    sub.add_parser("down", help="stop the hosts and remove the bridge, links, mounts and state")
    sub.add_parser("status", help="show each host, its address, running and ssh")
    p_ssh = sub.add_parser("ssh", help="root shell (or a command) on a host")
    p_ssh.add_argument("host")
    p_ssh.add_argument("command", nargs=argparse.REMAINDER)
    p_stop = sub.add_parser("stop", help="power a host off, keeping its disk")
    p_stop.add_argument("host")
    p_stop.add_argument("--hard", action="store_true", help="a power cut (SIGKILL), not a shutdown")
    p_start = sub.add_parser("start", help="boot a stopped host again")
    p_start.add_argument("host")
    args = parser.parse_args(argv)
    paths = Paths.from_env()
    try:
        if args.cmd == "up":
            return up(paths, args.secondaries, args.rootfs)
        if args.cmd == "down":
            return down(paths)
        if args.cmd == "status":
            return status(paths)
        if args.cmd == "stop":
            return stop(paths, args.host, args.hard)
        if args.cmd == "start":
            return start(paths, args.host)
        return ssh(paths, args.host, args.command)
    except LabError as exc:
        print(f"labctl.py: error: {exc}", file=sys.stderr)
        if args.cmd == "up":
            print("labctl.py: the lab may be half up; `labctl.py down` removes it", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("labctl.py: interrupted; `labctl.py down` removes what was started", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
