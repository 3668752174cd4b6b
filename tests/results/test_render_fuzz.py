"""`reportgen render` on a results folder tampered one field at a time: it renders a page or refuses the
folder in one line, never a traceback (issue 14, finding 10).

A demo-like run of the tiny model is saved once; each example takes one field of one of its files (any
value, in run.json, a line of examples.jsonl or of an attribution file), mutates it, reseals the
manifest (as anyone who edits a folder can) and renders through the command line. Fields are drawn
with list positions folded together, so a per-token list counts as one field, not hundreds. Run with
``-s`` to see how many mutations were tried and how each ended.
"""

from __future__ import annotations

import importlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from reportgen.results import store

from support.cli import assert_one_line_error, invoke
from support.runs import demo_like_run

EXAMPLES = 300
DELETE, TRUNCATE, EMPTY = "delete the key or item", "truncate the list", "empty the list"
REPLACEMENTS = ["x", "slow", "", 0, -1, 1.5, -2.5, True, False, None, {}, {"x": 1}, [], [1, "a"],
                float("nan"), float("inf"), -float("inf"), 1e308, -1e308, 10 ** 30, -(10 ** 30), 2 ** 63,
                10 ** 400]
MUTATIONS = [*((f"replace with {json.dumps(value)}", value) for value in REPLACEMENTS),
             (DELETE, None), (TRUNCATE, None), (EMPTY, None)]
TRIED: Counter = Counter()


def reseal(folder: Path) -> None:
    """Rewrite the manifest for the files as they now are, where this reportgen has one to rewrite."""
    try:
        manifest = importlib.import_module("reportgen.results.manifest")
    except ImportError:
        return
    sealing = getattr(manifest, "reseal", None)
    if sealing is not None:
        sealing(folder)


@dataclass
class Saved:
    folder: Path
    fields: dict[tuple[str, str], list[tuple[str, int | None, tuple]]] = field(repr=False)


@pytest.fixture(scope="module")
def saved(classifier, tmp_path_factory):
    """The saved folder and its fields; at the end, how many mutations were tried and how they ended."""
    folder = store.save(demo_like_run(classifier), tmp_path_factory.mktemp("fuzz") / "results")
    yield Saved(folder, fields(folder))
    outcomes = ", ".join(f"{count} {outcome}" for outcome, count in sorted(TRIED.items()))
    print(f"\nrender fuzz: {sum(TRIED.values())} single-field mutations tried: {outcomes}")


def fields(folder: Path) -> dict[tuple[str, str], list[tuple[str, int | None, tuple]]]:
    """Every value of every file, by (kind of file, path with list positions as '*'): where each one is."""
    found: dict[tuple[str, str], list[tuple[str, int | None, tuple]]] = {}
    for name, line, document in documents(folder):
        kind = "attributions/*.jsonl" if name.startswith("attributions/") else name
        for path in paths(document):
            generic = "/".join("*" if isinstance(key, int) else key for key in path)
            found.setdefault((kind, generic), []).append((name, line, path))
    return found


def documents(folder: Path):
    yield "run.json", None, json.loads((folder / "run.json").read_text())
    for path in [folder / "examples.jsonl", *sorted((folder / "attributions").glob("*.jsonl"))]:
        name = path.relative_to(folder).as_posix()
        for line, text in enumerate(path.read_text().splitlines()):
            yield name, line, json.loads(text)


def paths(value: Any, path: tuple = ()):
    if path:
        yield path
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield from paths(child, (*path, key))


def mutated(document: Any, path: tuple, mutation: str, replacement: Any) -> Any | None:
    """A copy of ``document`` with the value at ``path`` mutated; None when the mutation does not apply."""
    copy = json.loads(json.dumps(document))
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    if mutation == DELETE:
        del parent[key]
    elif mutation in (TRUNCATE, EMPTY):
        if not isinstance(parent[key], list) or not parent[key]:
            return None
        parent[key] = parent[key][: len(parent[key]) // 2] if mutation == TRUNCATE else []
    else:
        parent[key] = replacement
    return copy


def write(folder: Path, name: str, line: int | None, document: Any) -> None:
    path = folder / name
    if line is None:
        path.write_text(json.dumps(document, ensure_ascii=False, indent=1))
        return
    lines = path.read_text().splitlines()
    lines[line] = json.dumps(document, ensure_ascii=False)
    path.write_text("\n".join(lines) + "\n")


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_a_tampered_field_renders_or_is_refused_in_one_line(saved, data):
    folder, found = saved.folder, saved.fields
    kind, generic = data.draw(st.sampled_from(sorted(found)), label="field")
    name, line, path = data.draw(st.sampled_from(found[(kind, generic)]), label="where")
    mutation, replacement = data.draw(st.sampled_from(MUTATIONS), label="mutation")
    file = folder / name
    original = file.read_bytes()
    document = json.loads(original) if line is None else json.loads(original.decode().splitlines()[line])
    changed = mutated(document, path, mutation, replacement)
    assume(changed is not None)
    out = folder.parent / "report.html"
    out.unlink(missing_ok=True)
    try:
        write(folder, name, line, changed)
        reseal(folder)
        result = invoke("render", folder, "--out", out)
    finally:
        file.write_bytes(original)
        reseal(folder)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    outcome = "rendered" if result.exit_code == 0 else "refused"
    if result.exit_code == 0:
        page = out.read_text()
        assert 'http-equiv="Content-Security-Policy"' in page and page.rstrip().endswith("</html>")
    else:
        assert_one_line_error(result, r"^error: ")
    TRIED[outcome] += 1
    event(f"{kind}: {outcome}")
