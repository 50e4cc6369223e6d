import hashlib
import os
import stat
from pathlib import Path

import pytest
import yaml
from ccmgr.config import ConfigStore
from ccmgr.config.schema import DEFAULT_SESSION_TTL, shared_sha256
from ccmgr.errors import ConfigError
from ccmgr.passwords import verify_password

# A cmon-proxy v2.2 file as its daemon writes it (spec §1.6), with a legacy hash.
CMON_PROXY_YAML = """\
filename: /usr/share/ccmgr/ccmgr.yaml
webapproot: /var/www
fetch_jobs_hours: 12
fetch_backups_days: 7
instances:
    - xid: dc0no45qmd2opbn2qtr0
      url: 127.0.0.1:9501
      name: local
      use_cmon_auth: true
      frontend_url: localhost
      cmon_ssh_host: 127.0.0.1:9511
    - xid: chebjd8gfi863qqhrolg
      url: hostname:9443/api
      name: Controller name
      username: admin
      password: password
      frontend_url: http://hostname:9443/
timeout: 30
logfile: /var/log/ccmgr.log
users:
    - username: admin
      passwordhash: 0011223344556677:4096:{key}
frontend_path: /app
port: 19051
tls_cert: /usr/share/ccmgr/server.crt
tls_key: /usr/share/ccmgr/server.key
session_ttl: 1800000000000
single_controller: dc0no45qmd2opbn2qtr0
"""


def legacy_key(password: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex("0011223344556677"),
                               4096, 32).hex()


@pytest.fixture
def store(basedir):
    return ConfigStore(str(basedir / "ccmgr.yaml"))


def test_missing_file_gives_cmon_proxy_defaults(store):
    config = store.current()
    assert config.port == 19051
    assert config.timeout == 30
    assert config.doc["fetch_jobs_hours"] == 12
    assert config.doc["fetch_backups_days"] == 7
    assert config.doc["session_ttl"] == DEFAULT_SESSION_TTL == 1_800_000_000_000
    assert config.users == [] and config.instances == []
    assert config.tls_cert == os.path.join(config.basedir, "server.crt")
    assert not os.path.exists(store.path)  # reading never writes


def test_cmon_proxy_file_loads_unchanged(store):
    with open(store.path, "w") as f:
        f.write(CMON_PROXY_YAML.format(key=legacy_key("secret")))
    before = Path(store.path).read_text()
    config = store.current()
    assert Path(store.path).read_text() == before
    assert [i["xid"] for i in config.instances] == ["dc0no45qmd2opbn2qtr0", "chebjd8gfi863qqhrolg"]
    assert config.instances[1]["password"] == "password"
    assert config.tls_cert == "/usr/share/ccmgr/server.crt"
    assert config.doc["single_controller"] == "dc0no45qmd2opbn2qtr0"
    assert verify_password("secret", config.user("admin")["passwordhash"])


def test_update_keeps_unknown_and_cmon_proxy_keys(store):
    with open(store.path, "w") as f:
        f.write(CMON_PROXY_YAML.format(key=legacy_key("secret")) + "some_future_key: [1, 2]\n")
    store.update(lambda doc: doc.__setitem__("timeout", 45))
    written = yaml.safe_load(Path(store.path).read_text())
    assert written["timeout"] == 45
    assert written["some_future_key"] == [1, 2]
    assert written["webapproot"] == "/var/www"
    assert written["instances"][0]["cmon_ssh_host"] == "127.0.0.1:9511"
    assert written["instances"][0]["use_cmon_auth"] is True
    assert written["generation"] == 1


def test_written_file_is_0600_and_generation_counts(store):
    for expected in (1, 2, 3):
        store.update(lambda doc: doc["users"].append({"username": f"u{len(doc['users'])}"}))
        assert store.current().generation == expected
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600


def test_update_that_changes_nothing_writes_nothing(store):
    store.update(lambda doc: doc.__setitem__("timeout", 40))
    signature = os.stat(store.path).st_mtime_ns, os.stat(store.path).st_ino
    store.update(lambda doc: doc.__setitem__("timeout", 40))
    assert (os.stat(store.path).st_mtime_ns, os.stat(store.path).st_ino) == signature
    assert store.current().generation == 1


def test_failed_mutation_leaves_file_untouched(store):
    store.update(lambda doc: doc.__setitem__("timeout", 40))
    before = Path(store.path).read_text()

    def boom(doc):
        doc["timeout"] = 99
        raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        store.update(boom)
    assert Path(store.path).read_text() == before


def test_invalid_result_is_refused_before_it_lands(store):
    store.update(lambda doc: doc.__setitem__("timeout", 40))
    before = Path(store.path).read_text()
    with pytest.raises(ConfigError, match="port"):
        store.update(lambda doc: doc.__setitem__("port", "http"))
    assert Path(store.path).read_text() == before


@pytest.mark.parametrize(("text", "key"), [
    ("port: abc\n", "port"),
    ("port: true\n", "port"),
    ("timeout: [1]\n", "timeout"),
    ("instances:\n  - url: a:1\n  - name: x\n", "instances[1].url"),
    ("instances:\n  - url: 5\n", "instances[0].url"),
    ("instances: {a: 1}\n", "instances"),
    ("users:\n  - username: a\n  - username: a\n", "users[1].username"),
    ("users:\n  - email: x@y\n", "users[0].username"),
    ("role: leader\n", "role"),
    ("trusted_proxies: [not-an-ip]\n", "trusted_proxies[0]"),
])
def test_invalid_values_name_their_key(store, text, key):
    with open(store.path, "w") as f:
        f.write(text)
    with pytest.raises(ConfigError) as info:
        store.current()
    assert info.value.key == key
    assert f"key '{key}'" in str(info.value)


def test_yaml_syntax_error_names_the_line_and_file_is_kept(store, basedir):
    text = "timeout: 30\nusers:\n  - username: a\n  bad: [\n"
    with open(store.path, "w") as f:
        f.write(text)
    with pytest.raises(ConfigError) as info:
        store.current()
    assert info.value.line is not None and info.value.line >= 4
    with pytest.raises(ConfigError):
        store.update(lambda doc: None)
    assert Path(store.path).read_text() == text
    assert sorted(os.listdir(basedir)) == ["ccmgr.yaml", "ccmgr.yaml.lock"]


def test_reader_keeps_last_good_config_when_file_turns_bad(store):
    store.update(lambda doc: doc.__setitem__("timeout", 41))
    assert store.current().timeout == 41
    with open(store.path, "w") as f:
        f.write("timeout: [\n")
    assert store.current().timeout == 41
    assert store.last_error is not None
    with pytest.raises(ConfigError):
        store.reload()


def test_second_store_sees_rapid_successive_writes(store):
    other = ConfigStore(store.path)
    for value in range(31, 41):
        store.update(lambda doc, v=value: doc.__setitem__("timeout", v))
        assert other.current().timeout == value


def test_sha256_covers_shared_keys_only(store):
    store.update(lambda doc: doc.__setitem__("timeout", 40))
    first = store.current()
    store.update(lambda doc: doc.__setitem__("node_name", "elsewhere"))
    second = store.current()
    assert first.sha256 == second.sha256
    store.update(lambda doc: doc.__setitem__("timeout", 41))
    assert store.current().sha256 != first.sha256
    assert shared_sha256(first.doc) == first.sha256


def test_missing_xids_are_generated_in_rs_xid_format(store):
    with open(store.path, "w") as f:
        f.write("instances:\n  - url: a:9501\n    username: u\n    password: p\n")
    xid = store.current().instances[0]["xid"]
    assert len(xid) == 20 and set(xid) <= set("0123456789abcdefghijklmnopqrstuv")


def test_files_root_creates_in_a_service_basedir_belong_to_the_service_user(basedir):
    if os.geteuid() != 0:
        pytest.skip("needs root to create files for another owner")
    os.chown(basedir, 4242, 4242)  # the service user's basedir
    store = ConfigStore(str(basedir / "ccmgr.yaml"))
    store.update(lambda doc: doc.__setitem__("timeout", 40))
    store.update(lambda doc: doc.__setitem__("timeout", 41))  # keeps a history entry
    for name in ("ccmgr.yaml", "ccmgr.yaml.lock", "history"):
        st = os.stat(basedir / name)
        assert (st.st_uid, st.st_gid) == (4242, 4242), name
