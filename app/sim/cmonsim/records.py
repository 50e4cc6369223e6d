"""Enumerations and small record shapes of cmon RPC v2 (reference §2, §4-§9).

Only values listed in the reference appear here, so that everything the
simulator emits is drawn from the documented sets.
"""

from __future__ import annotations

import time
from typing import Any

REQUEST_STATUSES = (
    "Ok",
    "InvalidRequest",
    "ObjectNotFound",
    "TryAgain",
    "ClusterNotFound",
    "UnknownError",
    "AccessDenied",
    "AuthRequired",
    "Redirect",
)

CLUSTER_TYPES = (
    "GALERA",
    "REPLICATION",
    "POSTGRESQL_SINGLE",
    "MYSQLCLUSTER",
    "MYSQL_SINGLE",
    "MONGODB",
    "GROUP_REPL",
    "MSSQL_SINGLE",
    "REDIS",
    "VALKEY",
    "REDIS_SHARDED",
    "VALKEY_SHARDED",
    "MSSQL_AO_ASYNC",
    "ELASTIC",
    "CLICKHOUSE",
)

CLUSTER_STATES = (
    "STARTED",
    "DEGRADED",
    "FAILURE",
    "NOT_STARTED",
    "STOPPED",
    "SHUTTING_DOWN",
    "STARTING",
    "RECOVERING",
    "UNKNOWN",
    "MGMD_NO_CONTACT",
)

HOST_STATUSES = (
    "CmonHostUnknown",
    "CmonHostOnline",
    "CmonHostOffLine",
    "CmonHostFailed",
    "CmonHostRecovery",
    "CmonHostShutDown",
)

HOST_CLASSES = (
    "CmonHost",
    "CmonMySqlHost",
    "CmonGaleraHost",
    "CmonGroupReplHost",
    "CmonNdbHost",
    "CmonPostgreSqlHost",
    "CmonMongoHost",
    "CmonRedisHost",
    "CmonRedisSentinelHost",
    "RedisShardedHost",
    "CmonMsSqlHost",
    "CmonElasticHost",
    "CmonClickHouseHost",
    "CmonProxySqlHost",
    "CmonHaProxyHost",
    "CmonMaxScaleHost",
    "CmonKeepalivedHost",
    "CmonPgBouncerHost",
    "CmonPgBackRestHost",
    "CmonPBMAgentHost",
    "CmonPrometheusHost",
    "CmonAgentHost",
    "CmonNFSServerHost",
    "CmonNFSClientHost",
)

NODE_TYPES = (
    "controller",
    "galera",
    "mysql",
    "grouprepl",
    "postgres",
    "mongo",
    "redis",
    "memcached",
    "proxysql",
    "haproxy",
    "maxscale",
    "keepalived",
    "pgbouncer",
    "pgbackrest",
    "pbmagent",
    "garbd",
    "nfsserver",
    "nfsclient",
    "cmonagent",
    "prometheus",
    "clickhouse",
    "clickhouse_keeper",
)

HOST_ROLES = (
    "master",
    "slave",
    "multi",
    "controller",
    "primary",
    "replica",
    "secondary",
    "arbiter",
    "configsvr",
    "shardsvr",
    "mongos",
    "bvs",
    "backuprepo",
)

ALARM_SEVERITIES = {"ALARM_WARNING": 1, "ALARM_CRITICAL": 2}

# Component numbers: Network=0 and Cluster=3 are documented; the others are
# our own stable choice (the reference lists the names only).
ALARM_COMPONENTS = {"Network": 0, "Cluster": 3, "Node": 6, "Host": 7, "Backup": 9, "Recovery": 10}

# type_name -> (numeric type, component, title, recommendation). Only two
# numbers are documented (HostUnreachable, ClusterTimeDrift); the rest are
# invented but stable.
ALARM_TYPES: dict[str, tuple[int, str, str, str]] = {
    "HostUnreachable": (10006, "Network", "Host is not responding",
                        "Restart failed host, check firewall."),
    "ClusterTimeDrift": (40000, "Cluster", "Time drift detected", "Check NTP on all nodes."),
    "ClusterFailure": (30001, "Cluster", "Cluster failure",
                       "Check the cluster nodes and recover."),
    "ClusterRecoveryFail": (30002, "Recovery", "Cluster recovery failed", "Check the job log."),
    "HostCpuUsage": (10001, "Host", "Server CPU usage is high", "Check the processes."),
    "HostRamUsage": (10002, "Host", "Server RAM usage is high", "Check memory settings."),
    "HostDiskUsage": (10003, "Host", "Disk space is running low", "Free up disk space."),
    "HostSwapping": (10004, "Host", "Server is swapping", "Check memory settings."),
    "HostSshSlow": (10010, "Host", "SSH is slow", "Check the network and the host load."),
    "MySqlReplicationLag": (20001, "Node", "Replication lag", "Check the replica's load."),
    "MySqlReplicationBroken": (20002, "Node", "Replication stopped",
                               "Check the replica's error log."),
    "MySqlLongRunningQuery": (20003, "Node", "Long running query", "Check the query."),
    "CertificateExpiration": (10020, "Host", "Certificate will expire soon",
                              "Renew the certificate."),
    "BackupFailed": (50001, "Backup", "Backup failed", "Check the backup job log."),
    "GaleraClusterSplit": (60001, "Cluster", "Galera cluster split", "Check network partitions."),
    "ProcFailedRestart": (10030, "Node", "Process failed to restart", "Check the process log."),
}

JOB_STATUSES = (
    "DEFINED",
    "DEQUEUED",
    "RUNNING",
    "RUNNING2",
    "RUNNING3",
    "RUNNING_EXT",
    "SCHEDULED",
    "PAUSED",
    "ABORTED",
    "FINISHED",
    "FAILED",
)

JOB_COMMANDS = (
    "backup",
    "restore_backup",
    "verify_backup",
    "delete_backup",
    "create_cluster",
    "add_cluster",
    "remove_cluster",
    "addnode",
    "removenode",
    "registernode",
    "add_replication_slave",
    "promote_replication_slave",
    "rolling_restart",
    "restart",
    "enable_recovery",
    "disable_recovery",
    "enable_node_recovery",
    "disable_node_recovery",
    "upgrade_cluster",
    "check_pkg_upgrades",
    "error_report",
    "calculate_db_growth",
    "setup_audit_logging",
    "enable_db_readonly",
    "deploy_agents",
    "deploy_cmonagents",
    "pbmagent",
    "pgbouncer",
    "pgbackrest",
    "haproxy",
    "proxysql",
    "garbd",
    "add_shard",
    "enable_log_archiving",
    "success",
    "execute",
)

BACKUP_STATUSES = ("Completed", "Failed", "Running", "Pending")
BACKUP_VERIFIED = ("NotVerified", "Verified", "Failed")
BACKUP_METHODS = (
    "mysqldump",
    "xtrabackupfull",
    "xtrabackupincr",
    "mariabackupfull",
    "mariabackupincr",
    "ndb",
    "pg_basebackup",
    "pgdumpall",
    "pgbackrestfull",
    "pgbackrestincr",
    "pgbackrestdiff",
    "mongodump",
    "percona-backup-mongodb",
    "mssqlcert",
    "clickhouse-native",
    "clickhouse-native-incr",
)

LOG_SEVERITIES = ("LOG_DEBUG", "LOG_INFO", "LOG_WARNING", "LOG_ERR", "LOG_CRIT")
LOG_CLASSES = ("LogMessage", "JobStarted", "JobEnded", "ClusterStateChange", "HostStateChange")

USER_ORIGINS = ("CmonDb", "LDAP")

UTC_TIMEZONE = {
    "class_name": "CmonTimeZone",
    "name": "Coordinated Universal Time",
    "abbreviation": "UTC",
    "offset": 0,
    "use_dst": False,
}


def iso(ts: float) -> str:
    """cmon's timestamp form: UTC, millisecond precision, trailing Z."""
    ms = round(ts * 1000)
    secs, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{millis:03d}Z"


def group_record(group_id: int, name: str, created: str) -> dict[str, Any]:
    return {
        "class_name": "CmonGroup",
        "cdt_path": "/groups",
        "group_id": group_id,
        "group_name": name,
        "acl": "user::rwx,group::rwx,other::---",
        "created": created,
    }
