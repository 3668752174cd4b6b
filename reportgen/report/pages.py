"""The explorer of a long run, in pages.

Every example's article (its text, its heatmaps' data) takes 5 to 15 kB of markup. Past a few hundred
examples the page would hold tens of megabytes of them in its DOM, and a browser opens it slowly. Above
PAGED_FROM examples the templates still render every article, but in blocks of CHUNK articles (in review
order) that are gzip-compressed and base64-encoded into the page; report.js unpacks only the blocks that
the shown page needs (the browser's DecompressionStream) and shows PAGE_SIZE examples at a time. The
filters and the sort read a small index of the examples instead of the articles. Scores, most of what is
left after compression, are written to PAGED_DIGITS significant digits instead of DIGITS (a heatmap's
colours cannot show the difference; results/ keeps every digit), which makes the file a third smaller.
"""

from __future__ import annotations

import base64
import gzip
from typing import Any

PAGED_FROM = 300  # more examples than this: the explorer is paged
PAGE_SIZE = 50  # examples shown per page
CHUNK = 25  # articles per compressed block
DIGITS, PAGED_DIGITS = 4, 2  # significant digits of the explorer's scores: listed, paged
# What the filters and the sort read of an example, as its article's data-* attributes give it.
INDEX_FIELDS = ("label_filter", "prediction_filter", "correct", "confidence", "attention", "index", "disagreement")
INDEX_NAMES = {"label_filter": "label", "prediction_filter": "prediction"}


def paging(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """How the explorer's items (in review order) are paged, or None when they are few enough to be listed."""
    if len(items) <= PAGED_FROM:
        return None
    return {"page": PAGE_SIZE, "chunk": CHUNK, "pages": -(-len(items) // PAGE_SIZE), "index": index(items)}


def score_digits(examples: int) -> int:
    """The significant digits of the explorer's scores for a run of this many examples."""
    return PAGED_DIGITS if examples > PAGED_FROM else DIGITS


def index(items: list[dict[str, Any]]) -> dict[str, Any]:
    """The index block: per field a column of the items' values as their data-* attributes read (strings)."""
    columns: dict[str, Any] = {"chunk": CHUNK, "page": PAGE_SIZE, "id": [item["anchor"] for item in items]}
    for field in INDEX_FIELDS:
        columns[INDEX_NAMES.get(field, field)] = [attribute(item[field]) for item in items]
    return columns


def attribute(value: Any) -> str:
    """A value as the template writes it into a data-* attribute: '' for None, 1 or 0 for a truth value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def gzip_base64(markup: str) -> str:
    """The Jinja filter that packs a block of rendered articles: gzip (no timestamp, so a report renders the
    same bytes every time), then base64, whose characters are safe inside a script element."""
    packed = gzip.compress(str(markup).encode("utf-8"), compresslevel=9, mtime=0)
    return base64.b64encode(packed).decode("ascii")


def unpacked(block: str) -> str:
    """A packed block's markup again (for tests and tools that read a report)."""
    return gzip.decompress(base64.b64decode(block)).decode("utf-8")
