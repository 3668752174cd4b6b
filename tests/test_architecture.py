"""The shape of the package: stages as folders, imports that follow the flow, no cycles, small modules,
and registries that fill themselves from their folders."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import sys
import textwrap
from pathlib import Path

import pytest

from reportgen.explainers import explainers
from reportgen.measure import metrics
from reportgen.registry import Registry, import_modules
from reportgen.tasks import tasks

from support import ROOT

PACKAGE = ROOT / "reportgen"
MAX_LINES = 400
BASE = {"errors", "registry", "ops"}
# What each part of the package may import from the others. The data flows one way:
# load -> explain (explainers) -> measure -> results -> report; results, tasks and ops are shared vocabulary.
ALLOWED = {
    "errors": set(),
    "registry": {"errors"},
    "ops": {"errors"},
    "results": BASE,
    "tasks": BASE | {"results"},
    "load": BASE | {"results", "tasks"},
    "explain": BASE | {"results", "tasks", "load"},
    "explainers": BASE | {"results", "tasks", "load", "explain"},
    "measure": BASE | {"results", "tasks"},
    "report": BASE | {"results", "tasks", "measure"},
    "plugins": BASE | {"explain", "explainers"},
    "options": BASE | {"results", "tasks", "load", "explain", "explainers"},
    "api": BASE | {"results", "tasks", "load", "explain", "explainers", "measure", "report", "options"},
    "cli": BASE | {"results", "tasks", "load", "explain", "explainers", "measure", "report", "options", "api",
                   "plugins"},
    "__init__": {"errors", "options", "report", "results", "api"},
    "__main__": {"cli"},
}


def modules() -> dict[str, Path]:
    """Every module of the package by its dotted name (a package by its own name)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imported(name: str, path: Path) -> set[str]:
    """The package's modules that ``name`` imports, wherever in the file the import stands."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            if node.module:  # "from . import x" imports x, not the package it stands in
                targets.add(base)
            targets |= {f"{base}.{alias.name}" for alias in node.names}
    known = modules()
    return {target for target in targets if target in known and target != name}


def part(name: str) -> str:
    """The stage or top-level module a module belongs to: reportgen.report.sections.summary -> report."""
    pieces = name.split(".")
    return pieces[1] if len(pieces) > 1 else "__init__"


GRAPH = {name: imported(name, path) for name, path in modules().items()}


def test_every_part_of_the_package_is_in_the_import_table():
    parts = {part(name) for name in GRAPH} | {"__main__"}
    assert parts == set(ALLOWED), parts ^ set(ALLOWED)


@pytest.mark.parametrize("name", sorted(GRAPH))
def test_imports_follow_the_flow(name):
    mine = part(name)
    against = sorted(target for target in GRAPH[name] if part(target) not in ALLOWED[mine] | {mine})
    assert not against, f"{name} ({mine}) imports {against}; {mine} may import only {sorted(ALLOWED[mine])}"


def test_the_table_forbids_what_the_pipeline_forbids():
    assert "explain" not in ALLOWED["report"] and "explainers" not in ALLOWED["report"]
    assert "explainers" not in ALLOWED["measure"] and "explain" not in ALLOWED["measure"]
    assert "measure" not in ALLOWED["explainers"]
    assert all("cli" not in allowed and "api" not in allowed for part_, allowed in ALLOWED.items()
               if part_ not in ("cli", "__init__", "__main__"))


def test_no_import_cycle():
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for target in sorted(GRAPH[name]):
            assert state.get(target) != "open", " -> ".join(trail + [name, target])
            if target not in state:
                visit(target, trail + [name])
        state[name] = "done"

    for name in sorted(GRAPH):
        if name not in state:
            visit(name, [])


@pytest.mark.parametrize("name", sorted(GRAPH))
def test_modules_stay_small(name):
    lines = len(modules()[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines; split it (at most {MAX_LINES})"


# ----------------------------------------------------------------------------- registries fill themselves


REGISTRIES = {"explainers": explainers, "measure": metrics, "tasks": tasks}


@pytest.mark.parametrize("package, registry", REGISTRIES.items())
def test_every_module_of_a_registry_package_registers_something(package, registry):
    folder = PACKAGE / package
    names = [info.name for info in pkgutil.iter_modules([str(folder)]) if info.name != "base"]
    assert names
    for module in names:
        dotted = f"reportgen.{package}.{module}"
        assert any(cls.__module__ == dotted for cls in registry), f"{dotted} registers no {registry.kind}"


def test_a_new_module_in_a_registry_package_registers_without_any_other_edit(tmp_path, monkeypatch):
    """What makes a new method or metric one file: the package imports every module it holds."""
    package = tmp_path / "rg_throwaway_package"
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent("""
        from reportgen.registry import Registry, import_modules
        things = Registry("thing")
        import_modules(__name__, __path__)
    """))
    (package / "base.py").write_text("raise AssertionError('base modules are not imported by name')\n")
    (package / "new_thing.py").write_text(textwrap.dedent("""
        from . import things

        @things.register
        class NewThing:
            name = "new_thing"
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        loaded = importlib.import_module("rg_throwaway_package")
        assert loaded.things.names() == ["new_thing"]
    finally:
        for name in [n for n in sys.modules if n.startswith("rg_throwaway_package")]:
            del sys.modules[name]


def test_import_modules_skips_base_and_private_modules(tmp_path):
    (tmp_path / "base.py").write_text("")
    (tmp_path / "_helper.py").write_text("")
    (tmp_path / "one.py").write_text("")
    sys.modules.setdefault("rg_empty_package", type(sys)("rg_empty_package"))
    sys.modules["rg_empty_package"].__path__ = [str(tmp_path)]
    try:
        assert import_modules("rg_empty_package", [str(tmp_path)]) == ["one"]
    finally:
        for name in [n for n in sys.modules if n.startswith("rg_empty_package")]:
            del sys.modules[name]


def test_registry_order_snapshot_and_restore():
    registry: Registry = Registry("thing")
    late = type("Late", (), {"name": "late", "order": 5})
    early = type("Early", (), {"name": "early", "order": 1})
    plain = type("Plain", (), {"name": "plain"})
    for cls in (plain, late, early):
        registry.register(cls)
    assert registry.names() == ["early", "late", "plain"]  # by order, then as registered
    with registry.restored():
        registry.register(type("Extra", (), {"name": "extra"}))
        assert "extra" in registry
    assert registry.names() == ["early", "late", "plain"]
    saved = registry.snapshot()
    registry.register(type("Other", (), {"name": "other"}))
    registry.restore(saved)
    assert "other" not in registry


# ----------------------------------------------------------------------------- the tests' own shape


TESTS = ROOT / "tests"


@pytest.mark.parametrize("path", sorted(TESTS.rglob("*.py")), ids=lambda p: str(p.relative_to(TESTS)))
def test_no_test_imports_another_test_module(path):
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    tests = sorted(n for n in names if n.split(".")[-1].startswith("test_") or n.split(".")[-1] == "conftest")
    assert not tests, f"{path.name} imports {tests}; shared helpers belong in tests/support/"


@pytest.mark.parametrize("stage", ["load", "explain", "explainers", "measure", "results", "report", "tasks"])
def test_the_tests_mirror_the_stages(stage):
    assert list((TESTS / stage).glob("test_*.py")), f"tests/{stage}/ has no tests"
