"""The README.md and the JSON Schemas a results folder carries, so that whoever reads it elsewhere (pandas, a
database, another tool) knows what each file holds without reportgen. The schemas are the ones loading
validates against (schema.py), copied under ``schema/`` with their relative references intact."""

from __future__ import annotations

from .records import RunResult
from .schema import SCHEMAS

SCHEMA_FOLDER = "schema"

_README = """# reportgen results

Written by reportgen {version} on {created}; results format {format_version}. Every file below is listed, with
its size and sha256, in `manifest.json`, which is written last: a folder without it is unfinished. The JSON
Schema of each file is under `schema/` (the ones `reportgen render` validates this folder against).

| file | holds | schema |
|---|---|---|
| `run.json` | one JSON object: the settings (`config`), the model, the dataset, package versions, timings, the methods with their parameters, the failures, and every statistic under `metrics` (each with its definition) | `schema/run.json`, and `schema/metrics/<name>.json` for `metrics.<name>.result` |
| `examples.jsonl` | one line per example: `index` (the row of the data), `text`, `label` and `prediction` (class ids; names in `run.json` `model.labels`), `probabilities`, `tokens`, `words`, `word_ids` (each token's word, null for special tokens), `truncated`, `error` (why it failed, or null) | `schema/example.json` |
{attribution_rows}| `manifest.json` | every file above with its size and sha256, and the run's key | - |
| `reportgen.json` | marks the folder as reportgen's, with the run it holds | - |
| `README.md`, `schema/` | this file and the schemas | - |

An attribution line's `example` is the `index` of its example in `examples.jsonl`: join on them. `tokens`
holds one score per token of that example, `words` one per word; `extra` holds what a method adds (attention
maps, per-layer scores, an error's `contrast`: its scores for the other of its true and predicted classes).

With pandas:

```python
import pandas as pd

examples = pd.read_json("examples.jsonl", lines=True)
saliency = pd.read_json("attributions/saliency.jsonl", lines=True)
joined = saliency.merge(examples, left_on="example", right_on="index")
```
"""


def results_readme(run: RunResult, format_version: int) -> str:
    rows = "".join(f"| `attributions/{method}.jsonl` | one line per example `{method}` explained: `method`, "
                   f"`example`, `tokens`, `words`, `extra` | `schema/attribution.json` |\n"
                   for method in run.attributions)
    return _README.format(version=run.versions.get("reportgen", "?"), created=run.created,
                          format_version=format_version, attribution_rows=rows)


def schema_files(format_version: int) -> dict[str, bytes]:
    """Each schema file of the format, by its name in the results folder."""
    folder = SCHEMAS / f"v{format_version}"
    return {f"{SCHEMA_FOLDER}/{path.relative_to(folder).as_posix()}": path.read_bytes()
            for path in sorted(folder.rglob("*.json"))}


def schema_folders(format_version: int) -> list[str]:
    """The folders schema_files writes into, parents first."""
    folder = SCHEMAS / f"v{format_version}"
    below = sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_dir())
    return [SCHEMA_FOLDER, *(f"{SCHEMA_FOLDER}/{name}" for name in below)]
