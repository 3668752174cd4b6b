import base64
import html as html_lib
import hashlib
import json
import re
from html.parser import HTMLParser

from reportgen.render import render_html
from test_records import small_run

HOSTILE = '</script><script>alert(1)</script><!--<script> {{ 7*7 }} "\'&<img src=x onerror=alert(2)>'


class PageParts(HTMLParser):
    """Collects attributes and script bodies of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.attributes, self.scripts, self._script = [], [], None

    def handle_starttag(self, tag, attrs):
        self.attributes.extend((tag, name, value or "") for name, value in attrs)
        if tag == "script":
            self._script = {"attrs": dict(attrs), "body": ""}

    def handle_data(self, data):
        if self._script is not None:
            self._script["body"] += data

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.scripts.append(self._script)
            self._script = None


def parts(html):
    parser = PageParts()
    parser.feed(html)
    return parser


def test_no_remote_reference_and_bundle_inlined_once(classifier):
    html = render_html(small_run(classifier))
    page = parts(html)
    for tag, name, value in page.attributes:
        if name in ("src", "href", "action", "srcset", "data"):
            assert not re.match(r"\s*(https?:)?//", value), (tag, name, value)
    assert "@import" not in html
    assert html.count("window.vegaEmbed=") == 1
    executable = [s for s in page.scripts if "type" not in s["attrs"]]
    assert len(executable) == 2


def test_csp_allows_exactly_the_inlined_scripts(classifier):
    html = render_html(small_run(classifier))
    csp = html_lib.unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1))
    assert "default-src 'none'" in csp and "unsafe-eval" not in csp
    for script in (s for s in parts(html).scripts if "type" not in s["attrs"]):
        digest = base64.b64encode(hashlib.sha256(script["body"].encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp


def test_hostile_text_stays_data(classifier):
    run = small_run(classifier)
    run.examples[0].text = HOSTILE
    run.examples[0].tokens[1] = HOSTILE
    html = render_html(run)
    assert "<script>alert" not in html and "<img src=x" not in html and "<!--<script>" not in html
    page = parts(html)
    assert not any(name.startswith("on") for _, name, _ in page.attributes)
    spec_blocks = [s for s in page.scripts if s["attrs"].get("type") == "application/json"]
    tokens = {row["token"] for s in spec_blocks for row in json.loads(s["body"])["data"]["values"]}
    assert HOSTILE in tokens


def test_specs_are_valid_json_even_with_non_finite_scores(classifier):
    run = small_run(classifier)
    run.attributions["saliency"][0].tokens[1] = float("nan")
    page = parts(render_html(run))
    for block in (s for s in page.scripts if s["attrs"].get("type") == "application/json"):
        json.loads(block["body"], parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)))
