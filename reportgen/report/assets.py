"""The page's inlined CSS and JavaScript, the Content-Security-Policy that allows exactly them, and their licences."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from markupsafe import Markup

from ..errors import ReportgenError

PACKAGE_DIR = Path(__file__).resolve().parent.parent


def asset_dir(name: str) -> Path:
    """``templates`` or ``static``: inside the installed package, else beside it in a checkout."""
    for candidate in (PACKAGE_DIR / name, PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise ReportgenError(f"reportgen is installed without its {name}/ folder; reinstall it")


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


@lru_cache(maxsize=1)
def javascript_notice() -> dict[str, str]:
    """What JavaScript the page inlines, with versions, and the licences that travel with it."""
    import vl_convert

    text = (
        f"The page inlines Vega {vl_convert.get_vega_version()}, Vega-Lite {vl_convert.get_vegalite_versions()[-1]} "
        f"and vega-embed {vl_convert.get_vega_embed_version()} (BSD-3-Clause, (c) University of Washington "
        f"Interactive Data Lab) with the libraries they depend on, as one bundle made by vl-convert-python "
        f"{metadata.version('vl-convert-python')}; and reportgen's own report.js (MIT)."
    )
    licences = (asset_dir("static") / "third-party-licences.txt").read_text(encoding="utf-8")
    return {"text": text, "licences": licences}


def _vega_bundle() -> str:
    import vl_convert

    return vl_convert.javascript_bundle()


def _digest(script: str) -> str:
    return base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
