"""The .deb on a real booted Debian 12 host (ccm2): install, serve, reload, upgrade, purge.

The tests run in file order and share one installation on ccm2 (module fixture
``installed``); the last ones remove and purge it, and the fixture purges whatever is
left at the end, so the host is left as it was found. Both packages are built once per
session from a wheelhouse fetched first, so the builds themselves run offline
(``--no-index``), as on a machine without a package index.

The checks of the built files (contents, control fields, lintian) are not lab tests:
they need only the build, and run wherever ``make deb`` can.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.x509.oid import NameOID

REPO = Path(__file__).resolve().parents[2]
# ccm1 belongs to the site-deployment tests. Note that site.yml deploys ccm2 too: do not
# run this module while a site run is under way (apt waits for the dpkg lock, but each
# side would remove the other's installation). CCMGR_DEB_TEST_HOST picks another host.
HOST = os.environ.get("CCMGR_DEB_TEST_HOST", "ccm2")
APT = "DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -q"
PORT = 19051
BASEDIR = "/var/lib/ccmgr"
UPGRADE_SUFFIX = "+test1"

# The service's certificate is its self-signed first-start one.
pytestmark = [
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
    # A plain ccm2 before site.yml deploys it; the purge at the end leaves it plain again.
    pytest.mark.lab_before_site,
]


def _version() -> str:
    text = (REPO / "app/ccmgr/__init__.py").read_text()
    return re.search(r'^__version__ = "(.+)"$', text, re.M).group(1)


@dataclass
class Debs:
    base: Path
    upgrade: Path
    build_log: str


def _build(env: dict[str, str]) -> tuple[Path, str]:
    proc = subprocess.run(["bash", str(REPO / "packaging/build-deb.sh")], cwd=REPO,
                          env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, f"build-deb.sh failed:\n{proc.stdout}\n{proc.stderr[-6000:]}"
    return Path(proc.stdout.strip().splitlines()[-1]), proc.stderr


@pytest.fixture(scope="session")
def debs(tmp_path_factory: pytest.TempPathFactory) -> Debs:
    """The package at ccmgr's version and a rebuilt one with a higher version."""
    if not Path("/usr/bin/python3").exists() or not Path("/usr/bin/dpkg-deb").exists():
        pytest.skip("building the .deb needs Debian's python3 and dpkg")
    top = tmp_path_factory.mktemp("deb")
    wheelhouse = top / "wheelhouse"
    env = {"BUILD_ROOT": str(top / "build"), "OUTDIR": str(top / "out")}
    proc = subprocess.run(["bash", str(REPO / "packaging/fetch-wheels.sh"), str(wheelhouse)],
                          cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, f"fetch-wheels.sh failed:\n{proc.stderr[-4000:]}"
    env["WHEELHOUSE"] = str(wheelhouse)
    base, log = _build(env)
    upgrade, _ = _build({**env, "VERSION": _version() + UPGRADE_SUFFIX, "LINTIAN": "no"})
    return Debs(base, upgrade, log)


# --- the built package (no lab needed) ----------------------------------------------

def _field(deb: Path, name: str) -> str:
    return subprocess.run(["dpkg-deb", "-f", str(deb), name], capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.mark.slow
def test_deb_is_named_and_versioned_from_the_code(debs):
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()
    assert debs.base.name == f"ccmgr_{_version()}_{arch}.deb"
    assert _field(debs.upgrade, "Version") == _version() + UPGRADE_SUFFIX
    compare = subprocess.run(["dpkg", "--compare-versions", _field(debs.upgrade, "Version"),
                              "gt", _field(debs.base, "Version")])
    assert compare.returncode == 0


@pytest.mark.slow
def test_deb_depends_on_debians_python_311_and_libc(debs):
    depends = _field(debs.base, "Depends")
    assert "python3 (>= 3.11)" in depends and "python3 (<< 3.12)" in depends
    assert "libc6 (>=" in depends and "adduser" in depends


@pytest.mark.slow
def test_deb_holds_the_venv_the_unit_and_the_default_config(debs):
    listing = subprocess.run(["dpkg-deb", "-c", str(debs.base)], capture_output=True,
                             text=True, check=True).stdout
    for path in ("./opt/ccmgr/bin/ccmgr", "./opt/ccmgr/bin/ccmgradm", "./opt/ccmgr/pyvenv.cfg",
                 "./lib/systemd/system/ccmgr.service", "./usr/share/ccmgr/ccmgr.yaml.default",
                 "./etc/logrotate.d/ccmgr", "./usr/share/doc/ccmgr/copyright"):
        assert f" {path}" in listing, path
    assert re.search(r" \./usr/bin/ccmgr -> /opt/ccmgr/bin/ccmgr$", listing, re.M)
    assert re.search(r" \./usr/bin/ccmgradm -> /opt/ccmgr/bin/ccmgradm$", listing, re.M)
    assert re.search(r" \./opt/ccmgr/bin/python3 -> /usr/bin/python3$", listing, re.M)
    assert "/pip/" not in listing  # no installer in the runtime venv
    conffiles = subprocess.run(["dpkg-deb", "--info", str(debs.base), "conffiles"],
                               capture_output=True, text=True, check=True).stdout
    assert conffiles.split() == ["/etc/logrotate.d/ccmgr"]


@pytest.mark.slow
def test_deb_has_no_build_paths(debs, tmp_path):
    subprocess.run(["dpkg-deb", "-x", str(debs.base), str(tmp_path)], check=True)
    script = (tmp_path / "opt/ccmgr/bin/ccmgr").read_text()
    assert script.startswith("#!/opt/ccmgr/bin/python\n")
    leaks = subprocess.run(["grep", "-rlF", str(REPO), str(tmp_path)], capture_output=True,
                           text=True).stdout
    assert leaks == ""
    cfg = (tmp_path / "opt/ccmgr/pyvenv.cfg").read_text()
    assert "home = /usr/bin" in cfg and "/opt/ccmgr" in cfg


@pytest.mark.slow
def test_lintian_reports_no_errors_or_warnings(debs, capsys):
    if subprocess.run(["sh", "-c", "command -v lintian"], capture_output=True).returncode:
        pytest.skip("lintian is not installed (tools/host-packages.txt; make host-deps)")
    proc = subprocess.run(["lintian", "--profile", "debian", "--fail-on", "error,warning",
                           str(debs.base)], capture_output=True, text=True, timeout=300)
    tags = [line for line in proc.stdout.splitlines() if re.match(r"^[EW]: ", line)]
    with capsys.disabled():
        print(f"\nlintian on {debs.base.name}: {len(tags)} errors/warnings "
              "(overrides: packaging/debian/lintian-overrides)")
    assert proc.returncode == 0 and tags == [], proc.stdout[-4000:]


# --- on ccm2 ------------------------------------------------------------------------

def _scp(lab, local: Path, remote: str) -> None:
    subprocess.run(["scp", "-q", "-F", str(lab.ssh_config), str(local), f"{HOST}:{remote}"],
                   check=True, timeout=120)


def _purge(lab) -> None:
    lab.ssh(HOST, f"{APT} purge -y ccmgr >/dev/null 2>&1; rm -f /tmp/ccmgr_*.deb; true",
            timeout=400)


def _install(lab, deb: Path) -> subprocess.CompletedProcess:
    _scp(lab, deb, f"/tmp/{deb.name}")
    return lab.ssh(HOST, f"cd /tmp && {APT} install -y ./{shlex.quote(deb.name)}",
                   timeout=400)


@pytest.fixture(scope="module")
def installed(lab, debs):
    """ccmgr installed on ccm2 from the local .deb; purged at the end whatever happened."""
    _purge(lab)
    try:
        proc = _install(lab, debs.base)
        print(proc.stdout[-3000:])
        yield lab
    finally:
        _purge(lab)


def _url(lab, path: str = "/health") -> str:
    return f"https://{lab.hosts[HOST]}:{PORT}{path}"


def _wait_active(lab, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        state = lab.ssh(HOST, "systemctl is-active ccmgr", check=False).stdout.strip()
        if state == "active":
            return state
        time.sleep(0.5)
    return state


def _login(address: str, username: str, password: str) -> str:
    reply = requests.post(f"https://{address}:{PORT}/proxy/auth/login",
                          json={"username": username, "password": password},
                          verify=False, timeout=(3.05, 15))
    assert reply.status_code == 200, reply.text
    sid = reply.cookies.get("sid")
    assert sid, reply.headers
    return sid


def _check_session(address: str, sid: str) -> int:
    return requests.get(f"https://{address}:{PORT}/proxy/auth/check",
                        headers={"Cookie": f"sid={sid}"}, verify=False,
                        timeout=(3.05, 15)).status_code


def _main_pid(lab) -> int:
    return int(lab.ssh(HOST, "systemctl show -p MainPID --value ccmgr").stdout.strip())


def _worker_pids(lab) -> set[int]:
    out = lab.ssh(HOST, f"pgrep -P {_main_pid(lab)}", check=False).stdout
    return {int(p) for p in out.split()}


def _exposure(text: str) -> float:
    match = re.search(r"Overall exposure level for ccmgr\.service: ([0-9.]+)", text)
    assert match, text[-2000:]
    return float(match.group(1))


@pytest.mark.lab
def test_install_enables_and_starts_the_service(installed):
    lab = installed
    assert _wait_active(lab) == "active"
    host = lab.host(HOST)
    service = host.service("ccmgr")
    assert service.is_enabled
    assert host.user("ccmgr").exists and host.user("ccmgr").shell == "/usr/sbin/nologin"
    for path in (BASEDIR, "/var/log/ccmgr"):
        d = host.file(path)
        assert (d.is_directory, d.user, d.group, d.mode) == (True, "ccmgr", "ccmgr", 0o750)
    conf = host.file(f"{BASEDIR}/ccmgr.yaml")
    assert (conf.user, conf.mode) == ("ccmgr", 0o600)
    assert "logfile: /var/log/ccmgr/ccmgr.log" in conf.content_string
    assert host.file("/var/log/ccmgr/ccmgr.log").user == "ccmgr"
    assert host.file("/usr/bin/ccmgr").linked_to == "/opt/ccmgr/bin/ccmgr"
    assert host.file("/usr/bin/ccmgradm").linked_to == "/opt/ccmgr/bin/ccmgradm"
    # The main process is gunicorn's arbiter running as ccmgr, with workers under it.
    assert lab.ssh(HOST, f"ps -o user= -p {_main_pid(lab)}").stdout.strip() == "ccmgr"
    assert _worker_pids(lab)


@pytest.mark.lab
def test_health_answers_on_the_host_and_from_the_control_machine(installed):
    lab = installed
    code = lab.ssh(HOST, f"curl -sk -o /dev/null -w '%{{http_code}}' "
                         f"https://127.0.0.1:{PORT}/health").stdout
    assert code == "200"
    reply = requests.get(_url(lab), verify=False, timeout=(3.05, 10))
    assert reply.status_code == 200 and reply.json()["status"] == "ok"


@pytest.mark.lab
def test_initial_admin_password_is_root_only_and_logs_in(installed):
    lab = installed
    f = lab.host(HOST).file(f"{BASEDIR}/initial-admin-password")
    assert (f.user, f.mode) == ("ccmgr", 0o600)
    password = lab.ssh(HOST, f"cat {BASEDIR}/initial-admin-password").stdout.strip()
    sid = _login(lab.hosts[HOST], "admin", password)
    assert _check_session(lab.hosts[HOST], sid) == 200


@pytest.mark.lab
def test_ccmgradm_works_for_root_and_the_service_user(installed):
    lab = installed
    out = lab.ssh(HOST, "printf 'Secret-pass-1\\n' | ccmgradm adduser --password-stdin "
                        "operator1").stdout
    assert "reloaded" in out.lower() or "succe" in out.lower(), out
    conf = lab.host(HOST).file(f"{BASEDIR}/ccmgr.yaml")
    assert (conf.user, conf.group, conf.mode) == ("ccmgr", "ccmgr", 0o600)  # root kept owner
    proc = lab.ssh(HOST, "runuser -u ccmgr -- ccmgradm addcontroller --use-ldap "
                         f"https://{lab.hosts['cmon1']}:9501 -n lab-cmon1")
    assert proc.returncode == 0
    listing = lab.ssh(HOST, "runuser -u ccmgr -- ccmgradm listcontrollers").stdout
    assert "lab-cmon1" in listing or lab.hosts["cmon1"] in listing, listing
    # Nothing root ran left root-owned files behind for the service.
    stray = lab.ssh(HOST, f"find {BASEDIR} /var/log/ccmgr ! -user ccmgr").stdout.strip()
    assert stray == ""
    _login(lab.hosts[HOST], "operator1", "Secret-pass-1")


@pytest.mark.lab
def test_security_exposure_of_the_installed_unit(installed, capsys):
    out = installed.ssh(HOST, "systemd-analyze security ccmgr.service", check=False).stdout
    exposure = _exposure(out)
    with capsys.disabled():
        print(f"\nsystemd-analyze security ccmgr.service on {HOST}: exposure {exposure}")
    assert exposure <= 2.0


def _load(address: str, total: int, deadline: float, threads: int,
          on_progress) -> dict:
    """Keep-alive GET /health from a few threads until ``total`` are done or time is up."""
    lock = threading.Lock()
    stats = {"done": 0, "failed": 0, "errors": [], "nodes": [], "workers": set()}

    def client() -> None:
        with requests.Session() as session:
            while True:
                with lock:
                    if stats["done"] >= total or time.monotonic() > deadline:
                        return
                    stats["done"] += 1
                    done = stats["done"]
                try:
                    reply = session.get(f"https://{address}:{PORT}/health", verify=False,
                                        timeout=(3.05, 10))
                    ok = reply.status_code == 200
                    node = reply.headers.get("X-Ccmgr-Node", "")
                    error = None if ok else f"HTTP {reply.status_code}"
                except requests.RequestException as exc:
                    ok, node, error = False, "", f"{exc.__class__.__name__}: {exc}"
                with lock:
                    stats["nodes"].append((time.monotonic(), node))
                    if not ok:
                        stats["failed"] += 1
                        stats["errors"].append(error)
                on_progress(done)

    workers = [threading.Thread(target=client, daemon=True) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=max(1.0, deadline - time.monotonic() + 15))
    return stats


def _served_cn(address: str) -> str:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection((address, PORT), timeout=5) as raw, \
            context.wrap_socket(raw) as tls:
        der = tls.getpeercert(binary_form=True)
    cert = x509.load_der_x509_certificate(der)
    return cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


@pytest.mark.lab
def test_reload_under_load_drops_no_request_and_replaces_the_workers(installed, capsys):
    lab = installed
    address = lab.hosts[HOST]
    # A config change made before the reload (node_name is also read per request).
    lab.ssh(HOST, "ccmgradm node set node_name=ccm2-reloaded")
    workers_before = _worker_pids(lab)
    arbiter = _main_pid(lab)

    reloaded = threading.Event()
    reload_at = {}

    def on_progress(done: int) -> None:
        if done == 300 and not reloaded.is_set():
            reloaded.set()
            reload_at["t"] = time.monotonic()
            lab.ssh(HOST, "systemctl reload ccmgr")

    start = time.monotonic()
    stats = _load(address, total=2000, deadline=start + 30, threads=4, on_progress=on_progress)
    elapsed = time.monotonic() - start
    workers_after = _worker_pids(lab)
    with capsys.disabled():
        print(f"\nreload under load: {stats['done']} keep-alive requests from 4 threads in "
              f"{elapsed:.1f} s, {stats['failed']} failed; workers {sorted(workers_before)} -> "
              f"{sorted(workers_after)}")
    assert reloaded.is_set(), "the load loop ended before the reload"
    assert stats["failed"] == 0, stats["errors"][:10]
    assert stats["done"] >= 1000
    assert _main_pid(lab) == arbiter  # a reload, not a restart
    assert workers_after and workers_after.isdisjoint(workers_before)  # workers replaced
    assert lab.ssh(HOST, "systemctl is-active ccmgr").stdout.strip() == "active"
    after = [node for t, node in stats["nodes"] if t > reload_at["t"]]
    assert after and set(after) == {"ccm2-reloaded"}


@pytest.mark.lab
def test_reload_applies_gunicorn_settings_from_ccmgr_yaml(installed):
    lab = installed
    address = lab.hosts[HOST]
    # gunicorn's certfile/keyfile come from ccmgr.yaml through ccmgr.gunicorn_conf:
    # only a reload can apply new paths (the load balancer keeps its connections).
    lab.ssh(HOST, f"cd {BASEDIR} && openssl req -x509 -newkey ec -pkeyopt "
                  "ec_paramgen_curve:P-256 -nodes -subj /CN=ccmgr-reload-test -days 2 "
                  "-keyout reload.key -out reload.crt 2>/dev/null && chown ccmgr: reload.* "
                  "&& chmod 0600 reload.key")
    original = lab.ssh(HOST, "ccmgradm node show").stdout
    lab.ssh(HOST, f"ccmgradm node set tls_cert={BASEDIR}/reload.crt "
                  f"tls_key={BASEDIR}/reload.key")
    try:
        assert _served_cn(address) != "ccmgr-reload-test"  # not before the reload
        workers_before = _worker_pids(lab)
        lab.ssh(HOST, "systemctl reload ccmgr")
        deadline = time.monotonic() + 15
        while _worker_pids(lab) & workers_before or not _worker_pids(lab):
            assert time.monotonic() < deadline, "the workers were not replaced"
            time.sleep(0.2)
        time.sleep(1)
        assert _served_cn(address) == "ccmgr-reload-test"
    finally:
        doc = json.loads(original)
        lab.ssh(HOST, f"ccmgradm node set tls_cert={doc.get('tls_cert') or 'server.crt'} "
                      f"tls_key={doc.get('tls_key') or 'server.key'} "
                      f"&& systemctl reload ccmgr")


@pytest.mark.lab
def test_upgrade_keeps_users_controllers_and_sessions(installed, debs):
    lab = installed
    address = lab.hosts[HOST]
    password = lab.ssh(HOST, f"cat {BASEDIR}/initial-admin-password").stdout.strip()
    sid = _login(address, "admin", password)
    arbiter = _main_pid(lab)
    config_before = lab.ssh(HOST, f"cat {BASEDIR}/ccmgr.yaml").stdout

    _install(lab, debs.upgrade)
    version = lab.ssh(HOST, "dpkg-query -W -f '${Version}' ccmgr").stdout
    assert version == _version() + UPGRADE_SUFFIX
    assert _wait_active(lab) == "active"
    assert _main_pid(lab) != arbiter  # restarted on the new files
    assert lab.ssh(HOST, f"cat {BASEDIR}/ccmgr.yaml").stdout == config_before
    listing = lab.ssh(HOST, "ccmgradm listcontrollers").stdout
    assert "lab-cmon1" in listing or lab.hosts["cmon1"] in listing, listing
    deadline = time.monotonic() + 20
    while True:  # the service answers a moment after systemd calls it active
        try:
            status = _check_session(address, sid)
            break
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    assert status == 200  # the logged-in session survived the upgrade
    _login(address, "operator1", "Secret-pass-1")
    assert lab.host(HOST).service("ccmgr").is_enabled


@pytest.mark.lab
def test_remove_keeps_the_config_and_purge_removes_everything(installed):
    lab = installed
    lab.ssh(HOST, f"{APT} remove -y ccmgr", timeout=400)
    host = lab.host(HOST)
    assert lab.ssh(HOST, "systemctl is-active ccmgr", check=False).stdout.strip() != "active"
    assert host.file(f"{BASEDIR}/ccmgr.yaml").exists  # kept for a reinstall
    assert host.file(f"{BASEDIR}/session.key").exists
    assert not host.file("/usr/bin/ccmgr").exists
    assert not host.file("/opt/ccmgr").exists
    status = lab.ssh(HOST, "dpkg-query -W -f '${Status}' ccmgr").stdout
    assert status == "deinstall ok config-files"

    lab.ssh(HOST, f"{APT} purge -y ccmgr", timeout=400)
    for path in (BASEDIR, "/var/log/ccmgr", "/opt/ccmgr", "/usr/share/ccmgr",
                 "/etc/logrotate.d/ccmgr", "/lib/systemd/system/ccmgr.service",
                 "/etc/systemd/system/ccmgr.service",
                 "/etc/systemd/system/multi-user.target.wants/ccmgr.service"):
        assert not host.file(path).exists, path
    units = lab.ssh(HOST, "systemctl list-unit-files --no-legend ccmgr.service",
                    check=False).stdout
    assert units.strip() == ""
    assert not host.user("ccmgr").exists and not host.group("ccmgr").exists
    left = lab.ssh(HOST, "dpkg-query -W ccmgr", check=False)
    assert left.returncode != 0
