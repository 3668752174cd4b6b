"""What the tests share: tiny models built in code, runs, the command line and the browser."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the project: reportgen/, tests/, examples/, benchmarks/
