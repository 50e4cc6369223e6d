"""The layering that docs/architecture.md describes, checked on the source (ast, no import)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "app" / "ccmgr"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # "from a.b import c" counts as a.b.c: c may be a module (from ccmgr.cmon
            # import records) or a name in a.b; either way it starts with a.b.
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _modules(*parts: str) -> list[Path]:
    found = []
    for part in parts:
        target = PACKAGE / part
        found += sorted(target.rglob("*.py")) if target.is_dir() else [target.with_suffix(".py")]
    assert found, parts
    return found


def _offenders(paths: list[Path], forbidden: tuple[str, ...],
               allowed: tuple[str, ...] = ()) -> list[str]:
    bad = []
    for path in paths:
        for name in sorted(_imports(path)):
            if name.startswith(allowed):
                continue
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                where = path.relative_to(PACKAGE) if path.is_relative_to(PACKAGE) else path.name
                bad.append(f"{where} imports {name}")
    return bad


IO = ("falcon", "requests", "urllib3", "subprocess", "ccmgr.http")
# (what, modules, forbidden imports, allowed exceptions)
RULES = [
    ("views are pure: data in, JSON-ready dicts out", ("views",),
     (*IO, "socket", "ccmgr.collectors", "ccmgr.resources", "ccmgr.config", "ccmgr.cmon"),
     ("ccmgr.cmon.model", "ccmgr.cmon.records")),
    ("the cmon package depends on no layer above it", ("cmon",),
     ("falcon", "ccmgr.collectors", "ccmgr.views", "ccmgr.resources", "ccmgr.config",
      "ccmgr.ha", "ccmgr.cli"), ()),
    ("collectors never reach up into views, resources, HA or the CLI", ("collectors",),
     ("falcon", "ccmgr.views", "ccmgr.resources", "ccmgr.ha", "ccmgr.cli"), ()),
    ("the domain knows no HTTP framework and no layer above it",
     ("accounts", "registry", "users", "instances", "fields", "errors", "config"),
     (*IO, "ccmgr.collectors", "ccmgr.views", "ccmgr.resources", "ccmgr.ha", "ccmgr.cli"),
     ()),
    ("resources make no outbound calls of their own", ("resources",),
     ("requests", "urllib3", "subprocess", "ccmgr.http", "ccmgr.cmon.client"), ()),
    ("the CLI does not use the Falcon layer", ("cli",),
     ("falcon", "ccmgr.resources", "ccmgr.views"), ()),
]


@pytest.mark.parametrize(("what", "parts", "forbidden", "allowed"), RULES,
                         ids=[r[0] for r in RULES])
def test_layer_imports_follow_the_architecture(what, parts, forbidden, allowed):
    assert _offenders(_modules(*parts), forbidden, allowed) == [], what


def test_nothing_in_ccmgr_imports_the_simulator():
    assert _offenders(_modules(""), ("cmonsim",)) == []


def test_outbound_http_calls_are_made_only_in_http_py():
    """requests.Session(), requests.get(...) and the like are called in http.py alone
    (cmon/client.py and the rest only use requests' exception classes)."""
    calls = []
    for path in _modules(""):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "requests"):
                calls.append(f"{path.relative_to(PACKAGE)}:{node.lineno} requests.{node.func.attr}")
    assert any(c.startswith("http.py:") for c in calls)  # the check sees the code at all
    assert [c for c in calls if not c.startswith("http.py:")] == []


def test_the_checker_reports_a_view_that_imports_falcon_or_the_collectors(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import falcon\nfrom ccmgr.collectors.service import Collectors\n"
                   "from ccmgr.cmon import records\n")
    rule = RULES[0]
    assert _offenders([bad], rule[2], rule[3]) == [
        "bad.py imports ccmgr.collectors.service.Collectors", "bad.py imports falcon"]
