"""kill -9 in the middle of a stream of writes leaves a valid file: the old or the new one."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import yaml
from ccmgr.config import ConfigStore

WRITER = textwrap.dedent("""
    import sys
    from ccmgr.config import ConfigStore
    store = ConfigStore(sys.argv[1])
    # Each write sets every counter to the same new value: a torn or mixed file would show.
    # Large enough (about 150 KiB) that the kill often lands inside a write.
    while True:
        def bump(doc):
            n = doc["generation"] + 1
            doc["instances"] = [{"url": f"h{i}:9501", "name": f"n{n}", "useldap": True}
                                for i in range(2000)]
        store.update(bump)
        print("wrote", flush=True)
""")


def test_kill_9_never_leaves_a_torn_or_lost_file(basedir):
    path = str(basedir / "ccmgr.yaml")
    kills = 0
    for round_ in range(12):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, path],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        writer.stdout.readline()  # at least one write landed
        time.sleep(0.01 + (round_ % 4) * 0.013)
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=10)
        kills += 1
        doc = yaml.safe_load(Path(path).read_text())
        generation = doc["generation"]
        names = {i["name"] for i in doc["instances"]}
        # The file is whole, and its content is exactly the write of its generation.
        assert names == {f"n{generation}"}
        assert len(doc["instances"]) == 2000
    # After all that killing the store still works and cleans up any leftover temp file.
    ConfigStore(path).update(lambda doc: doc.__setitem__("timeout", 55))
    assert [n for n in os.listdir(basedir) if n.endswith(".tmp")] == []
    assert "ccmgr.yaml" in os.listdir(basedir)
    assert kills == 12
