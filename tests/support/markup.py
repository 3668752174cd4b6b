"""Every piece of markup on a page, and what reportgen's pages may hold: the tags and attributes its templates
write. A page holding anything else got it from data."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser


class Page(HTMLParser):
    """Every piece of markup on a page: tags, attributes, comments, declarations, and script bodies."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: Counter = Counter()
        self.attributes: set[tuple[str, str]] = set()
        self.markup: list[str] = []  # comments, declarations, processing instructions
        self.scripts: list[tuple[dict, str]] = []
        self.text: list[str] = []
        self._script: tuple[dict, list[str]] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags[tag] += 1
        self.attributes.update((tag, name) for name, _ in attrs)
        if tag == "script":
            self._script = (dict(attrs), [])

    def handle_startendtag(self, tag, attrs):
        self.tags[tag] += 1
        self.attributes.update((tag, name) for name, _ in attrs)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script[0], "".join(self._script[1])))
            self._script = None

    def handle_data(self, data):
        (self._script[1] if self._script is not None else self.text).append(data)

    def handle_comment(self, data):
        self.markup.append("comment " + data)

    def handle_decl(self, decl):
        self.markup.append("decl " + decl)

    def unknown_decl(self, data):
        self.markup.append("unknown " + data)

    def handle_pi(self, data):
        self.markup.append("pi " + data)


TAGS = {"html", "head", "meta", "title", "style", "script", "body", "header", "nav", "main", "section", "footer",
        "h1", "h2", "h3", "h4", "p", "a", "div", "span", "b", "bdi", "br", "code", "pre", "ul", "li", "dl", "dt",
        "dd", "table", "caption", "tr", "th", "td", "details", "summary", "article", "form", "label", "select",
        "option", "input", "button", "output"}
ATTRIBUTES = {"aria-label", "charset", "class", "content", "data-action", "data-attention", "data-disagreement",
              "data-bound", "data-height", "data-index", "data-kind", "data-opens", "data-order", "data-pages", "data-sort", "data-confidence",
              "data-correct", "data-datasets", "data-contrast", "data-filter", "data-highlight", "data-highlight-method", "data-label", "data-lists", "data-prediction", "data-spec", "href",
              "http-equiv", "id", "lang", "max", "min", "name", "role", "step", "title", "type", "value", "open",
              "for", "selected", "checked", "hidden", "colspan", "scope"}


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page
