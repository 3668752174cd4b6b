"""Turns a saved RunResult into one self-contained HTML report. Reads results only."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from .charts import token_heatmap
from .errors import ReportgenError
from .records import Example, RunResult

PACKAGE_DIR = Path(__file__).resolve().parent


def asset_dir(name: str) -> Path:
    """``templates`` or ``static``: inside the installed package, else beside it in a checkout."""
    for candidate in (PACKAGE_DIR / name, PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise ReportgenError(f"reportgen is installed without its {name}/ folder; reinstall it")


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    template: str


SECTIONS = (
    Section("summary", "Summary", "summary.html.j2"),
    Section("examples", "Example explorer", "examples.html.j2"),
    Section("methodology", "Methodology", "methodology.html.j2"),
)


def render_html(run: RunResult) -> str:
    """The whole report page as a string."""
    env = _environment()
    context = {
        "run": run,
        "sections": SECTIONS,
        "summary": summary_context(run),
        "explorer": explorer_context(run),
        "methodology": methodology_context(run),
        "assets": page_assets(),
    }
    return env.get_template("report.html.j2").render(context)


def write_report(run: RunResult, out: str | Path) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(run), encoding="utf-8")
    return out


def summary_context(run: RunResult) -> dict[str, Any]:
    explained = [ex for ex in run.examples if ex.ok]
    correct = [ex for ex in explained if ex.correct]
    figures = [
        {"label": "examples explained", "value": f"{len(explained)} / {len(run.examples)}"},
        {"label": "accuracy on these examples", "value": _share(len(correct), len(explained))},
        {"label": "attribution methods", "value": len(run.methods)},
        {"label": "failures", "value": len(run.failures)},
    ]
    training = run.model.get("training") or {}
    if "held_out_accuracy" in training:
        figures.insert(2, {"label": "held-out accuracy after fine-tuning", "value": f"{training['held_out_accuracy']:.3f}"})
    settings = [
        ("model", run.model.get("name")),
        ("architecture", f"{run.model.get('architecture')} ({run.model.get('parameters', 0):,} parameters)"),
        ("labels", ", ".join(run.labels)),
        ("data", run.dataset.get("name") or run.dataset.get("path")),
        ("input rows", run.dataset.get("rows")),
        ("target class", "predicted class" if run.config.get("target") == "pred" else "true label"),
        ("seed", run.config.get("seed")),
        ("device", run.model.get("device")),
        ("truncated texts", sum(ex.truncated for ex in run.examples)),
        ("explain time", f"{run.timings.get('explain', 0):.1f} s"),
    ]
    return {
        "model_name": run.model.get("display_name") or run.model.get("name", "model"),
        "dataset_name": run.dataset.get("name") or Path(str(run.dataset.get("path", "data"))).name,
        "explained": len(explained),
        "methods": list(run.methods),
        "figures": figures,
        "settings": settings,
        "failures": run.failures,
    }


def explorer_context(run: RunResult) -> dict[str, Any]:
    items = [_example_item(run, ex) for ex in run.examples]
    return {
        "examples": items,
        "normalisation": (
            "Each heatmap row is one method's scores for the target class, divided by that row's largest "
            "absolute score, so colours compare tokens within a method; red supports the target class, "
            "blue speaks against it. Hover a cell for the raw score."
        ),
    }


def _example_item(run: RunResult, ex: Example) -> dict[str, Any]:
    labels = run.labels
    item = {
        "index": ex.index,
        "text": ex.text,
        "label": _label(labels, ex.label),
        "prediction": _label(labels, ex.prediction),
        "confidence": f"p={max(ex.probabilities):.2f}" if ex.probabilities else "",
        "correct": ex.correct,
        "truncated": ex.truncated,
        "error": ex.error,
        "heatmap": None,
    }
    scores = {m: run.attributions[m][ex.index].tokens for m in run.methods if ex.index in run.attributions.get(m, {})}
    if ex.ok and scores:
        item["heatmap"] = token_heatmap(f"heatmap-{ex.index}", ex.tokens, scores)
    return item


def methodology_context(run: RunResult) -> dict[str, Any]:
    methods = [
        {"name": info.name, "description": info.description, "params": sorted(info.params.items())}
        for info in run.methods.values()
    ]
    return {
        "methods": methods,
        "folding": (
            "Scores are computed per token for the target class. Word scores are the sum of the word's "
            "sub-word token scores; word-level methods (LIME, SHAP) share a word's score equally among its tokens."
        ),
        "versions": sorted(run.versions.items()),
        "javascript": _javascript_notice(),
    }


@dataclass(frozen=True)
class Assets:
    css: Markup
    vendor_js: Markup
    report_js: Markup
    csp: str


@lru_cache(maxsize=1)
def page_assets() -> Assets:
    """Inlined CSS and JavaScript and the Content-Security-Policy that allows exactly them."""
    static = asset_dir("static")
    css = (static / "report.css").read_text(encoding="utf-8")
    vendor = _vega_bundle()
    report = (static / "report.js").read_text(encoding="utf-8")
    for name, script in (("vega bundle", vendor), ("report.js", report)):
        if "</script" in script.lower() or "<!--" in script:
            raise ReportgenError(f"the {name} cannot be inlined safely: it contains </script or <!--")
    hashes = " ".join(f"'sha256-{_digest(script)}'" for script in (vendor, report))
    csp = (
        f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; "
        "img-src data: blob:; font-src data:; base-uri 'none'; form-action 'none'"
    )
    return Assets(Markup(css), Markup(vendor), Markup(report), csp)


def _vega_bundle() -> str:
    import vl_convert

    return vl_convert.javascript_bundle()


def _javascript_notice() -> str:
    import vl_convert

    return (
        f"The page inlines Vega {vl_convert.get_vega_version()}, Vega-Lite and vega-embed "
        f"{vl_convert.get_vega_embed_version()} (BSD-3-Clause licence, (c) University of Washington "
        f"Interactive Data Lab), bundled by vl-convert-python {metadata.version('vl-convert-python')}."
    )


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(asset_dir("templates"))),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.policies["json.dumps_kwargs"] = {"sort_keys": False, "ensure_ascii": False, "allow_nan": False}
    return env


def _digest(script: str) -> str:
    return base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()


def _label(labels: list[str], label_id: int | None) -> str:
    if label_id is None:
        return "-"
    return labels[label_id] if 0 <= label_id < len(labels) else str(label_id)


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.3f}" if whole else "-"
