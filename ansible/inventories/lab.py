#!/usr/bin/env python3
"""Ansible inventory script for the multi-host lab (docs/lab.md).

Prints the inventory that lab/labctl.py wrote for the running lab (LAB_DIR, default
/var/lib/ccmgr-lab), so `ansible-playbook site.yml` from ansible/ targets the lab without
knowing where its state lives. With the lab down it prints an empty inventory.
Equivalent static file: $LAB_DIR/inventory.yml.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "lab"))
import labctl  # stdlib only; found through the sys.path entry above


def script_inventory(tree: dict) -> dict:
    """Turn the YAML-inventory shape ({all: {vars, children}}) into the script shape."""
    out: dict = {"_meta": {"hostvars": {}}}

    def walk(name: str, group: dict) -> None:
        entry = out.setdefault(name, {})
        if group.get("vars"):
            entry["vars"] = group["vars"]
        if group.get("hosts"):
            entry["hosts"] = list(group["hosts"])
            for host, hostvars in group["hosts"].items():
                out["_meta"]["hostvars"][host] = hostvars or {}
        if group.get("children"):
            entry["children"] = list(group["children"])
            for child, sub in group["children"].items():
                walk(child, sub or {})

    walk("all", tree["all"])
    return out


def main(argv: list[str]) -> int:
    if len(argv) > 1 and argv[1] == "--host":
        print("{}")
        return 0
    paths = labctl.Paths.from_env()
    hosts = labctl.load_hosts(paths)
    if not hosts:
        print(f"lab inventory: the lab is down (no {paths.state_file})", file=sys.stderr)
        print(json.dumps({"_meta": {"hostvars": {}}}))
        return 0
    print(json.dumps(script_inventory(labctl.inventory(paths, hosts)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
