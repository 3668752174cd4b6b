"""A built wheel carries templates/ and static/ and renders a report when installed non-editable."""

import subprocess
import sys
import venv

import pytest

from reportgen.results import store


@pytest.mark.slow
def test_wheel_installs_and_renders(tmp_path, classifier):
    from support.runs import small_run

    root = __import__("pathlib").Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp_path / "dist", root],
                   check=True)
    wheel = next((tmp_path / "dist").glob("reportgen-*.whl"))
    names = subprocess.run([sys.executable, "-m", "zipfile", "-l", wheel], capture_output=True, text=True).stdout
    assert "reportgen/templates/report.html.j2" in names and "reportgen/static/report.js" in names

    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel], check=True)
    results = store.save(small_run(classifier), tmp_path / "results")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    run = lambda *args: subprocess.run(  # noqa: E731
        [env_dir / "bin" / "reportgen", *args], cwd=outside, capture_output=True, text=True, check=True
    )
    assert "Usage:" in run("--help").stdout
    located = subprocess.run([python, "-c", "import reportgen.report.assets as r; print(r.asset_dir('templates'))"],
                             cwd=outside, capture_output=True, text=True, check=True).stdout
    assert str(env_dir) in located, "templates must come from the installed wheel, not the checkout"
    run("render", results, "--out", outside / "report.html")
    assert (outside / "report.html").read_text().count("window.vegaEmbed=") == 1
