"""Deterministic generation of simulated controllers and their data.

Everything is derived from (seed, controller index, sizes, now): the same
inputs always give the same records, byte for byte. Times are relative to
`now` so that a client's "last 12 h of jobs" / "last 7 days of backups"
windows cut the lists as they would on a real controller.
"""

from __future__ import annotations

import calendar
import json
import random
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .records import ALARM_COMPONENTS, ALARM_SEVERITIES, ALARM_TYPES, iso
from .users import User, ldap_users, static_users

HOUR = 3600.0
DAY = 86400.0

# Quirks of real controllers (reference §11.3). The first group is on by default
# because a real cmon does emit them; the rest are opt-in torture tests.
DEFAULT_QUIRKS = frozenset({"job_spec_string", "job_spec_text", "progress_variants"})
ALL_QUIRKS = DEFAULT_QUIRKS | {"port_string", "null_alarm", "pool_int_clusters", "rotate_sid"}

CONTROLLER_VERSIONS = ("2.3.1", "2.3.2", "2.2.5", "2.1.0")
CONTROLLER_PORT = 9500  # cmon's internal RPC port as shown in host lists


@dataclass(frozen=True)
class Profile:
    """What a cluster type looks like: host class, node type, ports, vendors, methods."""

    host_class: str
    nodetype: str
    port: int
    vendors: tuple[tuple[str, str, str], ...]  # (vendor, cluster version, host version)
    methods: dict[str, tuple[str, ...]]  # vendor -> backup methods ("*" for any)
    datadir: str
    job_type: str
    name_hint: str


PROFILES: dict[str, Profile] = {
    "GALERA": Profile(
        "CmonGaleraHost", "galera", 3306,
        (("percona", "8.0", "8.0.36-28.1"), ("mariadb", "10.11", "10.11.7-MariaDB")),
        {"percona": ("xtrabackupfull", "xtrabackupincr", "mysqldump"),
         "mariadb": ("mariabackupfull", "mariabackupincr", "mysqldump")},
        "/var/lib/mysql", "galera", "galera",
    ),
    "REPLICATION": Profile(
        "CmonMySqlHost", "mysql", 3306,
        (("percona", "8.0", "8.0.36-28"), ("oracle", "8.0", "8.0.37"),
         ("mariadb", "10.11", "10.11.7-MariaDB")),
        {"percona": ("xtrabackupfull", "mysqldump"), "oracle": ("xtrabackupfull", "mysqldump"),
         "mariadb": ("mariabackupfull", "mysqldump")},
        "/var/lib/mysql", "replication", "mysql",
    ),
    "GROUP_REPL": Profile(
        "CmonGroupReplHost", "grouprepl", 3306,
        (("oracle", "8.0", "8.0.37"),),
        {"*": ("xtrabackupfull", "mysqldump")},
        "/var/lib/mysql", "group_replication", "gr",
    ),
    "POSTGRESQL_SINGLE": Profile(
        "CmonPostgreSqlHost", "postgres", 5432,
        (("postgresql", "16", "16.2"), ("postgresql", "15", "15.6"), ("EDB", "14", "14.11")),
        {"*": ("pg_basebackup", "pgdumpall", "pgbackrestfull", "pgbackrestincr", "pgbackrestdiff")},
        "/var/lib/postgresql/16/main", "postgresql_single", "pg",
    ),
    "MONGODB": Profile(
        "CmonMongoHost", "mongo", 27017,
        (("percona", "7.0", "7.0.8-5"), ("10gen", "6.0", "6.0.15")),
        {"*": ("mongodump", "percona-backup-mongodb")},
        "/var/lib/mongodb", "mongodb", "mongo",
    ),
    "REDIS": Profile(
        "CmonRedisHost", "redis", 6379,
        (("redis", "7.2", "7.2.4"),),
        {},  # the reference lists no Redis backup method: such clusters have no schedule
        "/var/lib/redis", "redis", "redis",
    ),
}

TYPE_WEIGHTS = (
    ("GALERA", 25), ("REPLICATION", 22), ("POSTGRESQL_SINGLE", 25),
    ("MONGODB", 10), ("GROUP_REPL", 8), ("REDIS", 10),
)

APP_NAMES = (
    "orders", "billing", "payments", "inventory", "catalog", "search", "users", "sessions",
    "analytics", "reporting", "ledger", "shipping", "crm", "auth", "events", "metrics",
)
TAG_POOL = ("prod", "staging", "dev", "eu-west", "us-east", "apac", "pci", "team-payments",
            "team-search", "analytics")

# Non-backup job commands per cluster family (all from the reference's list).
COMMON_COMMANDS = ("rolling_restart", "restart", "check_pkg_upgrades", "error_report",
                   "enable_recovery", "disable_recovery", "calculate_db_growth", "addnode",
                   "verify_backup", "restore_backup", "deploy_agents")
FAMILY_COMMANDS = {
    "GALERA": ("garbd", "proxysql", "haproxy", "enable_db_readonly"),
    "REPLICATION": ("add_replication_slave", "promote_replication_slave", "proxysql"),
    "GROUP_REPL": ("proxysql", "setup_audit_logging"),
    "POSTGRESQL_SINGLE": ("add_replication_slave", "promote_replication_slave", "pgbouncer",
                          "pgbackrest", "enable_log_archiving"),
    "MONGODB": ("pbmagent", "add_shard"),
    "REDIS": ("add_replication_slave",),
}
JOB_TITLES = {
    "backup": "Create Backup", "restore_backup": "Restore Backup", "verify_backup": "Verify Backup",
    "rolling_restart": "Rolling Restart", "restart": "Restart Node",
    "check_pkg_upgrades": "Check Package Upgrades", "error_report": "Create Error Report",
    "enable_recovery": "Enable Cluster Recovery", "disable_recovery": "Disable Cluster Recovery",
    "calculate_db_growth": "Calculate DB Growth", "addnode": "Add Node",
    "deploy_agents": "Deploy Monitoring Agents", "garbd": "Add Garbd", "proxysql": "Add ProxySQL",
    "haproxy": "Add HAProxy", "enable_db_readonly": "Enable Read-only",
    "add_replication_slave": "Add Replica", "promote_replication_slave": "Promote Replica",
    "setup_audit_logging": "Setup Audit Logging", "pgbouncer": "Add PgBouncer",
    "pgbackrest": "Install pgBackRest", "enable_log_archiving": "Enable WAL Archiving",
    "pbmagent": "Install PBM Agent", "add_shard": "Add Shard", "create_cluster": "Create Cluster",
}
# Free-text job_spec values a real controller emits for internal jobs (reference §6.1).
TEXT_JOB_SPECS = ("Galera Node Recovery", "Cluster Recovery", "Node Recovery")

RUNNING_STATES = ("RUNNING", "RUNNING2", "RUNNING3", "RUNNING_EXT")
EXECUTED_STATES = ("DEFINED", "DEQUEUED", *RUNNING_STATES, "ABORTED", "FINISHED", "FAILED")

STATUS_TEXT = {
    "STARTED": "All nodes are operational.",
    "DEGRADED": "One or more nodes are not online.",
    "FAILURE": "The cluster failed: no node is online.",
    "STOPPED": "The cluster is stopped.",
    "RECOVERING": "The cluster is recovering.",
    "UNKNOWN": "The state of the cluster is unknown.",
}
HOST_MESSAGES = {
    "CmonHostOnline": "Up and running.",
    "CmonHostOffLine": "Host is offline.",
    "CmonHostFailed": "Connection refused.",
    "CmonHostRecovery": "Node is recovering.",
    "CmonHostShutDown": "Node is shut down.",
    "CmonHostUnknown": "State is unknown.",
}


@dataclass(frozen=True)
class EstateSpec:
    """Sizes and switches of a generated estate."""

    controllers: int = 1
    clusters: int | Sequence[int] = 3  # per controller, or one count per controller
    hosts: int = 3  # database nodes per cluster (the controller entry comes on top)
    seed: int = 1
    now: float = 0.0  # unix time the data is relative to
    ldap: frozenset[int] = frozenset()  # indexes of LDAP-enabled controllers
    quirks: frozenset[str] = DEFAULT_QUIRKS
    versions: dict[int, str] = field(default_factory=dict)  # per-index version override

    def clusters_of(self, index: int) -> int:
        if isinstance(self.clusters, int):
            return self.clusters
        return int(self.clusters[index])


@dataclass
class ControllerData:
    """One controller's identity, users and records; records are reply-ready dicts."""

    index: int
    name: str
    controller_id: str
    version: str
    ip: str
    ldap: bool
    users: list[User]
    clusters: list[dict[str, Any]]  # CmonClusterInfo with "hosts", by cluster_id
    alarms: list[dict[str, Any]]  # ascending alarm_id
    jobs: list[dict[str, Any]]  # executed instances, ascending job_id
    schedules: list[dict[str, Any]]  # SCHEDULED/PAUSED definitions, ascending job_id
    backups: list[dict[str, Any]]  # v2 records, ascending id
    logs: list[dict[str, Any]]  # ascending log_id
    audit: list[dict[str, Any]]  # ascending id
    license: dict[str, Any]
    license_check: dict[str, Any]
    quirks: frozenset[str] = DEFAULT_QUIRKS

    def cluster(self, cluster_id: int) -> dict[str, Any] | None:
        if 1 <= cluster_id <= len(self.clusters):
            return self.clusters[cluster_id - 1]
        return None


def controller_name(index: int) -> str:
    return f"cmon-{index + 1:02d}"


def derive_state(db_statuses: Iterable[str]) -> str:
    """Cluster state from its database hosts (reference §11.2)."""
    statuses = list(db_statuses)
    if not statuses:
        return "UNKNOWN"
    if all(s == "CmonHostShutDown" for s in statuses):
        return "STOPPED"
    if all(s == "CmonHostUnknown" for s in statuses):
        return "UNKNOWN"
    if "CmonHostRecovery" in statuses:
        return "RECOVERING"
    online = sum(s == "CmonHostOnline" for s in statuses)
    if online == len(statuses):
        return "STARTED"
    return "DEGRADED" if online else "FAILURE"


def generate_estate(spec: EstateSpec) -> list[ControllerData]:
    return [generate_controller(spec, i) for i in range(spec.controllers)]


def generate_controller(spec: EstateSpec, index: int) -> ControllerData:
    return _Generator(spec, index).build()


class _Generator:
    """Builds one controller. A private RNG per controller keeps each controller's
    data independent of how many controllers the estate has."""

    def __init__(self, spec: EstateSpec, index: int) -> None:
        self.spec = spec
        self.index = index
        self.now = float(int(spec.now))
        # Test data, not secrets: a seeded PRNG is the point.
        self.rng = random.Random(f"cmonsim:{spec.seed}:{index}")  # noqa: S311
        self.name = controller_name(index)
        self.controller_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        self.version = spec.versions.get(index) or self.rng.choice(CONTROLLER_VERSIONS)
        # One /16 per controller keeps host addresses unique across the estate.
        self.net = f"10.{(index % 250) + 1}"
        self.ip = f"{self.net}.0.2"
        self.next_ip = 10
        self.next_host_id = 1
        self.quirks = spec.quirks
        self.ldap = index in spec.ldap
        users = static_users(self.name)
        if self.ldap:
            users += ldap_users()
        self.users = users
        self.admin = users[0]

    # -- helpers -------------------------------------------------------------------------
    def ts(self, ago: float) -> str:
        return iso(self.now - ago)

    def alloc_ip(self) -> str:
        n = self.next_ip
        self.next_ip += 1
        return f"{self.net}.{n // 250}.{n % 250 + 3}"

    # -- build ---------------------------------------------------------------------------
    def build(self) -> ControllerData:
        n_clusters = self.spec.clusters_of(self.index)
        types = self.pick_types(n_clusters)
        scenarios = self.pick_scenarios(n_clusters)
        clusters = [self.make_cluster(c + 1, types[c], scenarios[c]) for c in range(n_clusters)]
        self.ensure_tag_mix(clusters)
        unscheduled = self.pick_unscheduled(clusters)
        events = self.job_events(clusters, unscheduled)
        jobs, schedules, backups = self.number_jobs(events)
        alarms = self.make_alarms(clusters, backups)
        logs = self.make_logs(clusters, jobs)
        audit = self.make_audit(clusters)
        self.add_statistics(clusters, alarms, jobs)
        license_, check = self.make_license(clusters)
        return ControllerData(
            index=self.index, name=self.name, controller_id=self.controller_id,
            version=self.version, ip=self.ip, ldap=self.ldap, users=self.users,
            clusters=clusters, alarms=alarms, jobs=jobs, schedules=schedules, backups=backups,
            logs=logs, audit=audit, license=license_, license_check=check, quirks=self.quirks,
        )

    def pick_types(self, n: int) -> list[str]:
        # Every type shows up once before weighting takes over, so even small
        # estates exercise all host classes and node types.
        first = [t for t, _ in TYPE_WEIGHTS]
        self.rng.shuffle(first)
        names = [t for t, _ in TYPE_WEIGHTS]
        weights = [w for _, w in TYPE_WEIGHTS]
        rest = self.rng.choices(names, weights, k=max(0, n - len(first)))
        return (first + rest)[:n]

    def pick_scenarios(self, n: int) -> list[str]:
        # Each controller with >= 3 clusters has at least one healthy, one degraded
        # and one failed cluster; the rest follow realistic weights.
        forced = ["healthy", "degraded", "failure"][:n]
        kinds = ["healthy", "degraded", "failure", "stopped", "recovering", "unknown"]
        weights = [64, 14, 5, 6, 6, 5]
        scen = forced + self.rng.choices(kinds, weights, k=max(0, n - len(forced)))
        self.rng.shuffle(scen)
        return scen

    def make_cluster(self, cid: int, ctype: str, scenario: str) -> dict[str, Any]:
        rng = self.rng
        prof = PROFILES[ctype]
        vendor, version, host_version = rng.choice(prof.vendors)
        n = self.spec.hosts
        statuses = self.host_statuses(scenario, n)
        hosts = [self.make_db_host(cid, ctype, prof, i, statuses[i], host_version)
                 for i in range(n)]
        hosts.append(self.make_controller_host(cid))
        state = derive_state(statuses)
        ntags = rng.choice((0, 1, 1, 2, 2, 3))
        tags = sorted(rng.sample(TAG_POOL, ntags))
        app = rng.choice(APP_NAMES)
        methods = prof.methods.get(vendor) or prof.methods.get("*") or ()
        return {
            "class_name": "CmonClusterInfo",
            "cluster_id": cid,
            "cluster_name": f"{app}-{prof.name_hint}-{cid:02d}",
            "cluster_type": ctype,
            "state": state,
            "status_text": STATUS_TEXT[state],
            "vendor": vendor,
            "version": version,
            "tags": tags,
            "maintenance_mode_active": state == "STARTED" and rng.random() < 0.05,
            "cluster_auto_recovery": rng.random() < 0.85,
            "node_auto_recovery": rng.random() < 0.85,
            "managed": True,
            "configuration_file": f"/etc/cmon.d/cmon_{cid}.cnf",
            "log_file": f"/var/log/cmon_{cid}.log",
            "cdt_path": "/",
            "acl": "user::rwx,group::rwx,other::---",
            "effective_privileges": "rwx",
            "hosts": hosts,
            # Private generator hints, stripped before replying.
            "_methods": list(methods),
            "_job_type": prof.job_type,
        }

    def ensure_tag_mix(self, clusters: list[dict[str, Any]]) -> None:
        # Tag filters need both tagged and untagged clusters on every controller.
        if len(clusters) < 2:
            return
        if all(c["tags"] for c in clusters):
            self.rng.choice(clusters)["tags"] = []
        if not any(c["tags"] for c in clusters):
            self.rng.choice(clusters)["tags"] = ["prod"]

    def host_statuses(self, scenario: str, n: int) -> list[str]:
        rng = self.rng
        online = ["CmonHostOnline"] * n
        if scenario == "degraded" and n >= 2:
            bad = rng.sample(range(n), rng.randint(1, n - 1))
            for i in bad:
                online[i] = rng.choice(("CmonHostFailed", "CmonHostOffLine"))
            return online
        if scenario in ("degraded", "failure"):
            return [rng.choice(("CmonHostFailed", "CmonHostFailed", "CmonHostOffLine"))
                    for _ in range(n)]
        if scenario == "stopped":
            return ["CmonHostShutDown"] * n
        if scenario == "recovering":
            online[rng.randrange(n)] = "CmonHostRecovery"
            return online
        if scenario == "unknown":
            return ["CmonHostUnknown"] * n
        return online

    def role_of(self, ctype: str, i: int, n: int) -> dict[str, Any]:
        if ctype == "GALERA":
            return {"role": "master"}
        if ctype in ("REPLICATION", "POSTGRESQL_SINGLE", "REDIS"):
            if i == 0:
                return {"role": "master"}
            if ctype == "REPLICATION" and n >= 4 and i == 1:
                return {"role": "multi"}  # intermediate master
            return {"role": "slave"}
        if ctype == "GROUP_REPL":
            return {"role": "primary" if i == 0 else "secondary"}
        if ctype == "MONGODB":
            if n >= 4 and i == n - 1:
                return {"role": "arbiter", "member_role": "Arbiter", "rs": "rs0"}
            return {"role": "shardsvr", "member_role": "Primary" if i == 0 else "Secondary",
                    "rs": "rs0"}
        return {"role": "master"}

    def make_db_host(self, cid: int, ctype: str, prof: Profile, i: int, status: str,
                     version: str) -> dict[str, Any]:
        rng = self.rng
        ip = self.alloc_ip()
        host_id = self.next_host_id
        self.next_host_id += 1
        up = status == "CmonHostOnline" or status == "CmonHostRecovery"
        uptime = rng.randint(3600, 90 * 86400) if up else 0
        lastseen = int(self.now) - (rng.randint(0, 30) if up else rng.randint(300, 7200))
        port: Any = prof.port
        if "port_string" in self.quirks and rng.random() < 0.3:
            port = str(prof.port)  # numeric fields sometimes arrive as strings
        host: dict[str, Any] = {
            "class_name": prof.host_class,
            "hostId": host_id,
            "clusterid": cid,
            "hostname": ip,
            "ip": ip,
            "hostname_internal": "",
            "hostname_data": ip,
            "port": port,
            "hoststatus": status,
            "nodetype": prof.nodetype,
            **self.role_of(ctype, i, self.spec.hosts),
            "connected": up,
            "maintenance_mode": "none",
            "maintenance_mode_active": False,
            "message": HOST_MESSAGES[status],
            "lastseen": lastseen,
            "timestamp": lastseen,
            "wallclock": lastseen,
            "pingstatus": 1 if up else 0,
            "pingtime": rng.randint(80, 900) if up else -1,
            "uptime": uptime,
            "service_started": int(self.now) - uptime if up else 0,
            "pid": rng.randint(1000, 60000) if up else -1,
            "version": version,
            "datadir": prof.datadir,
            "logfile": f"/var/log/{prof.nodetype}.log",
            "readonly": ctype in ("REPLICATION", "POSTGRESQL_SINGLE") and i > 0,
            "distribution": rng.choice((
                {"name": "ubuntu", "codename": "jammy", "release": "22.04", "type": "debian"},
                {"name": "debian", "codename": "bookworm", "release": "12", "type": "debian"},
                {"name": "rocky", "codename": "Blue Onyx", "release": "9.3", "type": "redhat"},
            )),
            "ssl_certs": {"server": {"ca": "", "id": 0, "key": "", "path": "",
                                     "ssl_enabled": rng.random() < 0.5},
                          "replication": None},
            "unique_id": host_id,
            "cdt_path": f"/{cid}",
        }
        if ctype == "REPLICATION" and i > 0:
            lag = rng.choice((0, 0, 0, 1, 4, 120)) if up else -1
            host["replication_slave"] = {
                "master_host": f"{self.net}.{(self.next_ip - 1 - i) // 250}."
                               f"{(self.next_ip - 1 - i) % 250 + 3}",
                "master_port": str(prof.port),
                "seconds_behind_master": lag,
                "slave_io_running": "Yes" if up else "No",
                "slave_sql_running": "Yes" if up else "No",
                "status": "" if up else "Connecting to source",
            }
        if ctype == "POSTGRESQL_SINGLE":
            host["replication_state"] = "" if i == 0 else ("streaming" if up else "")
        return host

    def make_controller_host(self, cid: int) -> dict[str, Any]:
        # Every cluster's host list carries the controller itself (reference §4.2).
        host_id = self.next_host_id
        self.next_host_id += 1
        return {
            "class_name": "CmonHost",
            "hostId": host_id,
            "clusterid": cid,
            "hostname": self.ip,
            "ip": self.ip,
            "hostname_internal": "",
            "hostname_data": self.ip,
            "port": CONTROLLER_PORT,
            "hoststatus": "CmonHostOnline",
            "nodetype": "controller",
            "role": "controller",
            "connected": True,
            "maintenance_mode": "none",
            "maintenance_mode_active": False,
            "message": "Up and running.",
            "lastseen": int(self.now),
            "timestamp": int(self.now),
            "wallclock": int(self.now),
            "pingstatus": -1,
            "pingtime": -1,
            "uptime": 30 * 86400,
            "version": self.version,
            "distribution": {"name": "ubuntu", "codename": "jammy", "release": "22.04",
                             "type": "debian"},
            "unique_id": host_id,
            "cdt_path": f"/{cid}",
        }

    def pick_unscheduled(self, clusters: list[dict[str, Any]]) -> set[int]:
        # At least one cluster per controller (when it has two or more) lacks a
        # backup schedule, so "missing schedules" is never trivially zero.
        cids = [c["cluster_id"] for c in clusters if c["_methods"]]
        out = {c["cluster_id"] for c in clusters if not c["_methods"]}
        if len(clusters) >= 2 and cids and not out:
            out.add(self.rng.choice(cids))
        for cid in cids:
            if self.rng.random() < 0.08:
                out.add(cid)
        return out

    # -- jobs, schedules, backups -----------------------------------------------------------
    def job_events(self, clusters: list[dict[str, Any]], unscheduled: set[int]) -> list[dict]:
        """Jobs (and backups they produced) with creation times but no ids yet."""
        rng = self.rng
        events: list[dict[str, Any]] = []
        for cl in clusters:
            cid = cl["cluster_id"]
            methods = cl["_methods"]
            if methods and cid not in unscheduled:
                n_sched = 2 if rng.random() < 0.2 else 1
                for k in range(n_sched):
                    events.extend(self.schedule_with_runs(cl, methods, weekly=k == 1))
            if methods:
                for _ in range(rng.randint(0, 2)):
                    ago = rng.uniform(2 * HOUR, 10.5 * DAY)
                    status = "FAILED" if rng.random() < 0.15 else "FINISHED"
                    events.append(self.backup_event(cl, rng.choice(methods), ago, status, None))
            for _ in range(rng.randint(3, 7)):
                events.append(self.other_job(cl))
        # Controller-level jobs (cluster_id 0), e.g. a cluster deployment that failed.
        events.append(self.job_event(0, "create_cluster", "FAILED", 30 * HOUR, "galera"))
        events.append(self.job_event(0, "error_report", "FINISHED", 20 * HOUR, ""))
        self.ensure_backup_statuses(clusters, events)
        self.ensure_job_statuses(clusters, events)
        return events

    def schedule_with_runs(self, cl: dict[str, Any], methods: list[str],
                           weekly: bool) -> list[dict[str, Any]]:
        rng = self.rng
        method = methods[-1] if weekly else methods[0]
        minute, hour = rng.choice((0, 15, 30, 45)), rng.randint(0, 5)
        weekday = rng.randint(0, 6)
        recurrence = f"{minute} {hour} * * {weekday}" if weekly else f"{minute} {hour} * * *"
        paused = rng.random() < 0.1
        created_ago = rng.uniform(15 * DAY, 90 * DAY)
        sched = {
            "kind": "schedule", "cluster_id": cl["cluster_id"], "ago": created_ago,
            "status": "PAUSED" if paused else "SCHEDULED", "recurrence": recurrence,
            "title": "Weekly backup" if weekly else "Nightly full backup",
            "method": method, "job_type": cl["_job_type"],
        }
        events = [sched]
        # Runs at the cron times within the last ~10.5 days (so a 7-day window cuts).
        day0 = int(self.now // DAY) * DAY
        paused_after = rng.uniform(1 * DAY, 6 * DAY) if paused else 0.0
        for d in range(0, 12):
            at = day0 - d * DAY + hour * HOUR + minute * 60
            if weekly and int(at // DAY + 4) % 7 != weekday:  # 1970-01-01 was a Thursday (4)
                continue
            ago = self.now - at
            if ago <= 60 or ago > 10.5 * DAY or ago < paused_after:
                continue
            status = "FAILED" if rng.random() < 0.1 else "FINISHED"
            ev = self.backup_event(cl, method, ago, status, sched)
            events.append(ev)
        return events

    def backup_event(self, cl: dict[str, Any], method: str, ago: float, job_status: str,
                     sched: dict[str, Any] | None) -> dict[str, Any]:
        return {
            "kind": "job", "cluster_id": cl["cluster_id"], "ago": ago, "command": "backup",
            "status": job_status, "method": method, "schedule": sched,
            "job_type": cl["_job_type"], "cluster": cl,
        }

    def job_event(self, cid: int, command: str, status: str, ago: float,
                  job_type: str) -> dict[str, Any]:
        return {"kind": "job", "cluster_id": cid, "ago": ago, "command": command,
                "status": status, "job_type": job_type}

    def other_job(self, cl: dict[str, Any]) -> dict[str, Any]:
        rng = self.rng
        cmds = COMMON_COMMANDS + FAMILY_COMMANDS.get(cl["cluster_type"], ())
        status = rng.choices(EXECUTED_STATES, (2, 2, 4, 1, 1, 1, 5, 60, 14), k=1)[0]
        if status in ("DEFINED", "DEQUEUED"):
            ago = rng.uniform(10, 900)
        elif status in RUNNING_STATES:
            ago = rng.uniform(60, 2 * HOUR)
        else:
            ago = rng.uniform(15 * 60, 36 * HOUR)  # beyond 12 h so the window cuts
        ev = self.job_event(cl["cluster_id"], rng.choice(cmds), status, ago, cl["_job_type"])
        ev["cluster"] = cl
        return ev

    def ensure_backup_statuses(self, clusters: list[dict[str, Any]], events: list[dict]) -> None:
        # One running and one pending backup per controller (when any cluster can back up).
        capable = [c for c in clusters if c["_methods"]]
        if not capable:
            return
        cl = self.rng.choice(capable)
        events.append(self.backup_event(cl, cl["_methods"][0], 300.0, "RUNNING", None))
        cl = self.rng.choice(capable)
        events.append(self.backup_event(cl, cl["_methods"][0], 40.0, "DEFINED", None))

    def ensure_job_statuses(self, clusters: list[dict[str, Any]], events: list[dict]) -> None:
        if not clusters:
            return
        seen = {e["status"] for e in events if e["kind"] == "job"}
        for status in EXECUTED_STATES:
            if status not in seen:
                cl = self.rng.choice(clusters)
                ev = self.other_job(cl)
                ev["status"] = status
                ev["ago"] = 120.0 if status not in ("FINISHED", "FAILED", "ABORTED") else 4 * HOUR
                events.append(ev)

    def number_jobs(self, events: list[dict]) -> tuple[list[dict], list[dict], list[dict]]:
        """Assign monotonic job ids (by creation time) and build records."""
        rng = self.rng
        events.sort(key=lambda e: (-e["ago"], e["cluster_id"]))
        job_id = rng.randint(100, 600)
        backup_id = rng.randint(1, 50)
        jobs: list[dict[str, Any]] = []
        schedules: list[dict[str, Any]] = []
        backups: list[dict[str, Any]] = []
        for ev in events:
            job_id += rng.choice((1, 1, 1, 2, 3))  # gaps: deleted jobs
            ev["job_id"] = job_id
            if ev["kind"] == "schedule":
                schedules.append(self.schedule_record(ev))
                continue
            jobs.append(self.job_record(ev))
            if ev["command"] == "backup":
                backup_id += rng.choice((1, 1, 2))
                backups.append(self.backup_record(ev, backup_id))
        return jobs, schedules, backups

    def owner(self) -> dict[str, Any]:
        u = self.admin
        return {"user_id": u.user_id, "user_name": u.user_name, "group_id": 1,
                "group_name": "admins", "owner_user_id": u.user_id, "owner_user_name": u.user_name}

    def schedule_record(self, ev: dict[str, Any]) -> dict[str, Any]:
        return {
            "class_name": "CmonJobInstance",
            "job_id": ev["job_id"],
            "cluster_id": ev["cluster_id"],
            "title": ev["title"],
            "status": ev["status"],
            "status_text": "Scheduled" if ev["status"] == "SCHEDULED" else "Paused",
            "recurrence": ev["recurrence"],
            "created": self.ts(ev["ago"]),
            **self.owner(),
            "can_be_aborted": False,
            "can_be_deleted": True,
            "has_progress": False,
            "progress_percent": 0,
            "rpc_version": "2.0",
            "ip_address": "127.0.0.1",
            "exit_code": 0,
            "tags": [],
            "job_spec": {"command": "backup", "job_data": self.backup_job_data(ev["method"])},
        }

    def backup_job_data(self, method: str) -> dict[str, Any]:
        return {"backup_method": method, "hostname": "auto", "backupdir": "/var/backups",
                "backupsubdir": "BACKUP-%I", "backup_retention": 31, "compression": True,
                "cc_storage": False, "use_pigz": False, "backup_failover": False}

    def job_record(self, ev: dict[str, Any]) -> dict[str, Any]:
        rng = self.rng
        status = ev["status"]
        created = self.now - ev["ago"]
        terminal = status in ("FINISHED", "FAILED", "ABORTED")
        command = ev["command"]
        sched = ev.get("schedule")
        rec: dict[str, Any] = {
            "class_name": "CmonJobInstance",
            "job_id": ev["job_id"],
            "cluster_id": ev["cluster_id"],
            "title": sched["title"] if sched else JOB_TITLES.get(command, command),
            "status": status,
            "status_text": {"FINISHED": "Command ok", "FAILED": "Job failed.",
                            "ABORTED": "Job aborted.", "DEFINED": "Waiting",
                            "DEQUEUED": "Dequeued"}.get(status, "Running"),
            "created": iso(created),
            **self.owner(),
            "can_be_aborted": not terminal,
            "can_be_deleted": terminal,
            "ip_address": "127.0.0.1",
            "rpc_version": "2.0",
            "has_progress": True,
            "tags": [],
        }
        if sched:
            rec["parent_job_id"] = sched["job_id"]
            rec["tags"] = ["recurrence"]
            rec["rpc_version"] = "1.0" if rng.random() < 0.5 else "2.0"
        if status not in ("DEFINED", "DEQUEUED"):
            rec["started"] = iso(created + rng.randint(1, 5))
        duration = rng.randint(20, 1800)
        if terminal:
            rec["ended"] = iso(min(created + duration, self.now - 1))
            rec["exit_code"] = 0 if status == "FINISHED" else 1
            rec["progress_percent"] = 100 if status == "FINISHED" else rng.randint(5, 95)
        else:
            rec["exit_code"] = 0
            pct = 0 if status in ("DEFINED", "DEQUEUED") else rng.randint(3, 97)
            rec["progress_percent"] = self.progress(pct, status)
        if command == "backup":
            rec["job_spec"] = {"command": "backup",
                               "job_data": self.backup_job_data(ev["method"])}
        else:
            rec["job_spec"] = self.job_spec(command, ev.get("job_type", ""), ev["cluster_id"])
        return rec

    def progress(self, pct: int, status: str) -> Any:
        if "progress_variants" not in self.quirks:
            return pct
        roll = self.rng.random()
        if status == "DEFINED" and roll < 0.5:
            return None
        if roll < 0.2:
            return str(pct)
        if roll < 0.4:
            return pct + 0.5
        return pct

    def job_spec(self, command: str, job_type: str, cid: int) -> Any:
        roll = self.rng.random()
        data: dict[str, Any] = {"clusterid": cid}
        if job_type:
            data["cluster_type"] = job_type
        spec = {"command": command, "job_data": data}
        if "job_spec_text" in self.quirks and roll < 0.04 and command in (
                "restart", "enable_recovery"):
            return self.rng.choice(TEXT_JOB_SPECS)
        if "job_spec_string" in self.quirks and roll < 0.10:
            return json.dumps({**spec, "group_id": 1, "user_name": self.admin.user_name})
        return spec

    def backup_record(self, ev: dict[str, Any], backup_id: int) -> dict[str, Any]:
        rng = self.rng
        cl = ev["cluster"]
        created = self.now - ev["ago"] + 3  # a constant lag keeps id order = time order
        status = {"FINISHED": "Completed", "FAILED": "Failed", "RUNNING": "Running",
                  "DEFINED": "Pending"}[ev["status"]]
        db_hosts = [h for h in cl["hosts"] if h["nodetype"] != "controller"]
        storage = rng.choice(db_hosts)["hostname"] if db_hosts else self.ip
        duration = rng.randint(60, 3600)
        done = status in ("Completed", "Failed")
        finished = iso(created + duration) if done else ""
        method = ev["method"]
        size = rng.randint(5, 4000) * 1024 * 1024 if status == "Completed" else 0
        files = [] if not done else [{
            "class_name": "CmonBackupFile", "created": finished,
            "hash": f"md5:{rng.getrandbits(128):032x}",
            "path": "backup-full.xbstream.gz" if "full" in method else "backup.sql.gz",
            "size": size, "type": "incr" if "incr" in method else "full",
        }]
        verified = "NotVerified"
        if status == "Completed":
            verified = rng.choices(("NotVerified", "Verified", "Failed"), (75, 20, 5), k=1)[0]
        root_dir = f"/var/backups/BACKUP-{backup_id}"
        rec: dict[str, Any] = {
            "version": 2,
            "metadata": {
                "class_name": "CmonBackupRecord",
                "id": backup_id,
                "cid": cl["cluster_id"],
                "job_id": ev["job_id"],
                "parent_id": 0,
                "chain_up": 0,
                "children": 0,
                "method": method,
                "status": status,
                "created": iso(created),
                "finished": finished,
                "title": ev["schedule"]["title"] if ev.get("schedule") else "",
                "description": "",
                "backup_host": storage,
                "compressed": True,
                "encrypted": False,
                "db_vendor": cl["vendor"],
                "server_version": cl["version"],
                "total_datadir_size": size * 3,
                "use_for_pitr": False,
                "schedule_id": ev["schedule"]["job_id"] if ev.get("schedule") else 0,
                "timezone": "UTC",
                "verified": {"status": verified, "message": "",
                             "verified_time": iso(created + duration + 600)
                             if verified != "NotVerified" else ""},
                "backup": [{"db": "", "start_time": iso(created + 1), "files": files}],
            },
            "host_locations": [{
                "type": "host", "host_location_uuid": str(uuid.UUID(int=rng.getrandbits(128),
                                                                    version=4)),
                "root_dir": root_dir, "storage_host": storage,
                "created_time": iso(created), "finished_time": finished,
                "being_deleted": False, "retention": 31,
            }],
            "cloud_locations": [],
            "cluster": {"cluster_id": cl["cluster_id"], "cluster_name": cl["cluster_name"]},
        }
        if status == "Completed" and rng.random() < 0.2:
            rec["cloud_locations"].append({
                "type": "cloud", "cloud_location_uuid": str(uuid.UUID(int=rng.getrandbits(128),
                                                                      version=4)),
                "bucket_and_path": f"s3://backups/{cl['cluster_name']}/{backup_id}",
                "credentials_id": 2, "provider": "aws", "storage_service": "s3",
                "created_time": iso(created), "finished_time": finished,
                "being_deleted": False, "retention": 90,
            })
        return rec

    # -- alarms, logs, audit ---------------------------------------------------------------
    def make_alarms(self, clusters: list[dict[str, Any]], backups: list[dict]) -> list[dict]:
        rng = self.rng
        raw: list[tuple[int, str, str, dict[str, Any] | None, float]] = []
        failed_backup = {b["metadata"]["cid"] for b in backups[-len(clusters) * 3:]
                         if b["metadata"]["status"] == "Failed"}
        for cl in clusters:
            cid = cl["cluster_id"]
            db = [h for h in cl["hosts"] if h["nodetype"] != "controller"]
            for h in db:
                if h["hoststatus"] in ("CmonHostFailed", "CmonHostOffLine"):
                    raw.append((cid, "HostUnreachable", "ALARM_CRITICAL", h,
                                rng.uniform(600, 6 * HOUR)))
                if h["hoststatus"] == "CmonHostRecovery":
                    raw.append((cid, "ProcFailedRestart", "ALARM_WARNING", h,
                                rng.uniform(300, 3600)))
            if cl["state"] == "FAILURE":
                raw.append((cid, "ClusterFailure", "ALARM_CRITICAL", None,
                            rng.uniform(600, 6 * HOUR)))
            online = [h for h in db if h["hoststatus"] == "CmonHostOnline"]
            extra = [("HostCpuUsage", None), ("HostDiskUsage", None), ("HostRamUsage", None),
                     ("CertificateExpiration", "ALARM_WARNING"), ("HostSwapping", None),
                     ("ClusterTimeDrift", "ALARM_WARNING")]
            if cl["cluster_type"] == "REPLICATION":
                extra += [("MySqlReplicationLag", None), ("MySqlLongRunningQuery", None)]
            for type_name, sev in extra:
                if online and rng.random() < 0.12:
                    sev = sev or rng.choice(("ALARM_WARNING", "ALARM_WARNING", "ALARM_CRITICAL"))
                    host = None if ALARM_TYPES[type_name][1] == "Cluster" else rng.choice(online)
                    raw.append((cid, type_name, sev, host, rng.uniform(300, 3 * DAY)))
            if cid in failed_backup:
                raw.append((cid, "BackupFailed", "ALARM_WARNING", None, rng.uniform(300, DAY)))
        # Both severities on every controller that has clusters.
        if clusters and not any(r[2] == "ALARM_WARNING" for r in raw):
            raw.append((clusters[0]["cluster_id"], "ClusterTimeDrift", "ALARM_WARNING", None,
                        3600.0))
        if clusters and not any(r[2] == "ALARM_CRITICAL" for r in raw):
            raw.append((clusters[-1]["cluster_id"], "HostCpuUsage", "ALARM_CRITICAL",
                        clusters[-1]["hosts"][0], 1800.0))
        raw.sort(key=lambda r: (-r[4], r[0]))
        alarms = []
        alarm_id = rng.randint(10, 200)
        for cid, type_name, sev, host, ago in raw:
            alarm_id += rng.choice((1, 1, 2))
            num, component, title, recommendation = ALARM_TYPES[type_name]
            where = f"Server {host['hostname']} reports: " if host else ""
            rec = {
                "class_name": "CmonAlarm",
                "alarm_id": alarm_id,
                "cluster_id": cid,
                "component": ALARM_COMPONENTS[component],
                "component_name": component,
                "type": num,
                "type_name": type_name,
                "severity": ALARM_SEVERITIES[sev],
                "severity_name": sev,
                "title": title,
                "message": f"{where}{title}.",
                "recommendation": recommendation,
                "created": self.ts(ago),
                "reported": self.ts(ago / 2),
                "ignored": 1 if rng.random() < 0.08 else 0,
                "counter": rng.randint(1, 40),
                "measured": 0,
            }
            if host:
                rec["hostname"] = host["hostname"]
                rec["host_id"] = host["hostId"]
            alarms.append(rec)
        return alarms

    def make_logs(self, clusters: list[dict[str, Any]], jobs: list[dict]) -> list[dict]:
        rng = self.rng
        raw: list[tuple[float, int, str, str, str, str]] = []
        for cl in clusters:
            cid = cl["cluster_id"]
            if cl["state"] != "STARTED":
                raw.append((rng.uniform(600, 6 * HOUR), cid, "LOG_WARNING", "ClusterStateChange",
                            "Cluster", f"Cluster state changed from STARTED to {cl['state']}."))
            for h in cl["hosts"]:
                if h["hoststatus"] in ("CmonHostFailed", "CmonHostOffLine"):
                    raw.append((rng.uniform(600, 6 * HOUR), cid, "LOG_ERR", "HostStateChange",
                                "Node", f"Host <strong>{h['hostname']}:{h['port']}</strong> "
                                        f"changed state to {h['hoststatus']}."))
            for _ in range(rng.randint(4, 10)):
                sev = rng.choices(("LOG_DEBUG", "LOG_INFO", "LOG_WARNING", "LOG_ERR", "LOG_CRIT"),
                                  (10, 60, 20, 8, 2), k=1)[0]
                raw.append((rng.uniform(60, DAY), cid, sev, "LogMessage", "Cluster",
                            rng.choice(("Collected statistics.", "Configuration file changed.",
                                        "Sampling queries.", "Checking disk space.",
                                        "Slow query detected."))))
        for job in jobs[-len(clusters) * 2:]:
            ago = self.now - _parse_iso(job["created"])
            if ago < DAY:
                raw.append((ago, job["cluster_id"], "LOG_INFO", "JobStarted", "Cluster",
                            f"Job {job['job_id']} started: {job['title']}."))
        raw.sort(key=lambda r: (-r[0], r[1]))
        logs = []
        log_id = rng.randint(1000, 5000)
        for ago, cid, sev, klass, component, text in raw:
            log_id += rng.choice((1, 1, 1, 2))
            created = self.now - ago
            logs.append({
                "class_name": "CmonLogMessage",
                "log_id": log_id,
                "created": iso(created),
                "severity": sev,
                "log_class": klass,
                "component": component,
                "log_origins": {"sender_binary": "cmon", "sender_file": "CmonCluster.cpp",
                                "sender_line": rng.randint(100, 9000), "sender_pid": 1234,
                                "tv_sec": int(created), "tv_nsec": 0},
                "log_specifics": {"cluster_id": cid, "message_text": text},
            })
        return logs

    def make_audit(self, clusters: list[dict[str, Any]]) -> list[dict]:
        rng = self.rng
        raw = []
        kinds = (("UserLogin", "User ccadmin logged in."), ("JobCreated", "Job created."),
                 ("ConfigChanged", "Configuration changed."),
                 ("AlarmIgnored", "Alarm was ignored."))
        for cl in clusters:
            for _ in range(rng.randint(1, 4)):
                raw.append((rng.uniform(60, 3 * DAY), cl["cluster_id"], rng.choice(kinds)))
        raw.sort(key=lambda r: (-r[0], r[1]))
        out = []
        for i, (ago, cid, (kind, text)) in enumerate(raw, start=1):
            out.append({"class_name": "CmonAuditEntry", "id": i, "cluster_id": cid,
                        "client_hostname": "10.0.0.5", "report_ts": self.ts(ago),
                        "entry_type": kind, "message_text": text, "username": "ccadmin"})
        return out

    def add_statistics(self, clusters: list[dict], alarms: list[dict], jobs: list[dict]) -> None:
        by_cluster: dict[int, Counter] = {c["cluster_id"]: Counter() for c in clusters}
        for a in alarms:
            if not a["ignored"]:
                by_cluster[a["cluster_id"]][a["severity_name"]] += 1
        job_states: dict[int, Counter] = {c["cluster_id"]: Counter() for c in clusters}
        for j in jobs:
            if j["cluster_id"] in job_states:
                job_states[j["cluster_id"]][j["status"]] += 1
        for cl in clusters:
            cid = cl["cluster_id"]
            cl["alarm_statistics"] = {
                "class_name": "CmonAlarmStatistics", "cluster_id": cid,
                "critical": by_cluster[cid]["ALARM_CRITICAL"],
                "warning": by_cluster[cid]["ALARM_WARNING"],
                "created_after": "1970-01-01T00:00:00.000Z",
                "reported_after": "1970-01-01T00:00:00.000Z",
            }
            cl["job_statistics"] = {"class_name": "CmonJobStatistics", "cluster_id": cid,
                                    "by_state": dict(sorted(job_states[cid].items()))}
            del cl["_methods"], cl["_job_type"]

    def make_license(self, clusters: list[dict]) -> tuple[dict, dict]:
        days_left = self.rng.choice((365, 210, 120, 45, 12))
        used = sum(len(c["hosts"]) - 1 for c in clusters)
        expires = self.now + days_left * DAY
        lic = {
            "class_name": "CmonLicense", "company": "Example Corp (simulated)",
            "days_left": days_left, "email_address": "licensing@example.com",
            "expiration_date": iso(expires), "licensed_nodes": max(100, used * 2),
            "type": "Enterprise", "used_nodes": used,
            "valid_date": days_left > 0,  # a boolean in real cmon (CmonLicense.ValidDate)
        }
        check = {"class_name": "CmonLicenseCheck", "expires_days": days_left,
                 "has_license": True,
                 "status_text": f"License valid, expires in {days_left} days."}
        return lic, check


def _parse_iso(text: str) -> float:
    base, _, ms = text.rstrip("Z").partition(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) + int(ms or 0) / 1000
