"""The model card's figures: the report's own charts drawn to valid SVG and PNG beside the card, hostile text
escaped in them, and only reportgen's own figures ever replaced or removed."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path
from xml.etree import ElementTree

import pytest

from reportgen import api
from reportgen.errors import ReportgenError
from reportgen.report.card_figures import CARD_CHARTS, FIGURE_LIST, card_figures, drawable
from reportgen.report.model_card import write_model_card
from reportgen.results.files import sha256_of

from support.runs import demo_like_run, hostile_run, small_run

SVG = "{http://www.w3.org/2000/svg}"


def png_size(data: bytes) -> tuple[int, int]:
    """A PNG's width and height, after checking its signature and the CRC of every chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, chunks = 8, []
    while at < len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length:at + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        chunks.append((kind, body))
        at += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))  # the pixels inflate
    return struct.unpack(">II", chunks[0][1][:8])


def svg_texts(path: Path) -> list[str]:
    root = ElementTree.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    elements = list(root.iter())
    assert not [e for e in elements if e.tag in (f"{SVG}script", f"{SVG}foreignObject")]
    assert not [name for e in elements for name in e.attrib if name.lower().startswith("on")]
    return ["".join(e.itertext()) for e in elements if e.tag == f"{SVG}text"]


def test_the_card_shows_the_reports_charts_as_valid_svg_and_png(classifier, tmp_path):
    run = demo_like_run(classifier)
    card = write_model_card(run, tmp_path / "model_card.md").read_text(encoding="utf-8")
    figures = tmp_path / "figures"
    names = [name for _, name, _ in CARD_CHARTS]
    assert [figure.name for figure in card_figures(run)] == names  # the demo-like run has data for every one
    listed = json.loads((figures / FIGURE_LIST).read_text())["files"]
    assert set(listed) == {f"{name}.{kind}" for name in names for kind in ("svg", "png")}
    for name in names:
        width, height = png_size((figures / f"{name}.png").read_bytes())
        assert width > 100 and height > 100
        assert svg_texts(figures / f"{name}.svg")  # axis labels and titles are drawn as text
        assert f"](figures/{name}.png)" in card and f"[SVG](figures/{name}.svg)" in card
        assert listed[f"{name}.png"] == sha256_of(figures / f"{name}.png")
    methods = [row["method"] for row in run.metrics["faithfulness"]["result"]["summary"] if not row["is_control"]]
    assert set(methods) <= set(svg_texts(figures / "faithfulness-lift.svg"))  # one axis label per method


def test_hostile_class_names_and_words_are_text_in_the_svg(classifier, tmp_path):
    run = hostile_run(classifier)
    write_model_card(run, tmp_path / "model_card.md")
    drawn = [text for path in (tmp_path / "figures").glob("*.svg") for text in svg_texts(path)]
    assert run.labels[0] in drawn  # "<b>neg</b></script>": drawn as the text it is


def test_control_characters_and_lone_surrogates_cannot_abort_the_drawing():
    # In a child process: vl-convert aborts its whole process on some text, which would end the test run.
    code = textwrap.dedent("""
        import json, sys, vl_convert
        from reportgen.report.card_figures import drawable
        labels = ["nul\\x00", "bell\\x07 esc\\x1b", "del\\x7f", "lone \\ud800 surrogate", "\\u202e rtl"]
        spec = {"data": {"values": [{"a": label, "b": i} for i, label in enumerate(labels)]}, "mark": "bar",
                "encoding": {"x": {"field": "a"}, "y": {"field": "b", "type": "quantitative"}}, "title": labels[0]}
        svg = vl_convert.vegalite_to_svg(drawable(spec))
        png = vl_convert.vegalite_to_png(drawable(spec))
        print(json.dumps({"svg": "surrogate" in svg and "rtl" in svg, "png": bytes(png[:4]) == b"\\x89PNG"}))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == {"svg": True, "png": True}
    assert drawable({"k\x00": ["a\x00b", "\ud800"]}) == {"k ": ["a b", "?"]}


def test_a_file_of_the_users_in_figures_is_never_replaced(classifier, tmp_path):
    run = demo_like_run(classifier)
    mine = tmp_path / "figures" / "confusion.png"
    mine.parent.mkdir()
    mine.write_bytes(b"my own plot")
    with pytest.raises(ReportgenError, match="confusion.png was not written by reportgen"):
        write_model_card(run, tmp_path / "model_card.md")
    with pytest.raises(ReportgenError, match="confusion.png"):  # refused before a run does any work
        api.check_outputs(tmp_path / "report.html", tmp_path / "results")
    assert mine.read_bytes() == b"my own plot" and not (tmp_path / "model_card.md").exists()


def test_a_later_card_replaces_and_removes_only_its_own_unchanged_figures(classifier, tmp_path):
    write_model_card(demo_like_run(classifier), tmp_path / "model_card.md")
    figures = tmp_path / "figures"
    (figures / "notes.txt").write_text("mine")
    (figures / "calibration.svg").write_text("<svg>edited by hand</svg>")
    with pytest.raises(ReportgenError, match="calibration.svg was not written by reportgen \\(or was changed"):
        write_model_card(demo_like_run(classifier), tmp_path / "model_card.md")
    (figures / "calibration.svg").unlink()
    write_model_card(small_run(classifier), tmp_path / "model_card.md")  # no statistics: no figures
    assert sorted(path.name for path in figures.iterdir()) == ["notes.txt", FIGURE_LIST]
    assert json.loads((figures / FIGURE_LIST).read_text())["files"] == {}
    assert "### Figures" not in (tmp_path / "model_card.md").read_text(encoding="utf-8")


def test_a_figure_that_cannot_be_drawn_is_left_out_and_said_so(classifier, tmp_path, monkeypatch):
    import reportgen.report.card_figures as card_figures_module

    original = card_figures_module.drawn

    def failing(figure):
        if figure.name == "confusion":
            raise ReportgenError("cannot draw the model card's figure confusion: test")
        return original(figure)

    monkeypatch.setattr(card_figures_module, "drawn", failing)
    card = write_model_card(demo_like_run(classifier), tmp_path / "model_card.md").read_text(encoding="utf-8")
    assert "cannot draw the model card's figure confusion: test." in card and "figures/confusion" not in card
    assert "](figures/calibration.png)" in card and not (tmp_path / "figures" / "confusion.png").exists()


def test_a_chart_without_data_is_no_figure(classifier):
    run = demo_like_run(classifier)
    faithfulness = run.metrics["faithfulness"]["result"]
    faithfulness["summary"] = [row for row in faithfulness["summary"] if row["is_control"]]  # no lift to show
    assert [figure.name for figure in card_figures(run)] == [name for _, name, _ in CARD_CHARTS][1:]
