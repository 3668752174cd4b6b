"""The README.md and the JSON Schemas a results folder carries, so that whoever reads it elsewhere (pandas, a
database, another tool) knows what each file holds without reportgen. The schemas are the ones loading
validates against (schema.py), and those of a row of each table (tables.py), copied under ``schema/`` with
their relative references intact."""

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
| `run.json` | one JSON object: the settings (`config`), the model, the dataset, package versions, timings, the methods with their parameters, the failures (each naming its `example`), and every statistic under `metrics` (each with its definition) | `schema/run.json`, and `schema/metrics/<name>.json` for `metrics.<name>.result` |
| `examples.jsonl` | one line per example: `example` (its number, the join key), `text`, `label` and `prediction` (class ids; names in `run.json` `model.labels`), `probabilities`, `tokens`, `words`, `word_ids` (each token's word, null for special tokens), `truncated`, `error` (why it failed, or null) | `schema/example.json` |
{attribution_rows}| `tables/examples.parquet` | one row per example | `schema/tables/examples.json` |
| `tables/attributions.parquet` | one row per token score | `schema/tables/attributions.json` |
| `tables/word_scores.parquet` | one row per word score | `schema/tables/word_scores.json` |
| `tables/metrics.parquet` | one row per number of every metric | `schema/tables/metrics.json` |
| `manifest.json` | every file above with its size and sha256, and the run's key | - |
| `reportgen.json` | marks the folder as reportgen's, with the run it holds | - |
| `README.md`, `schema/` | this file and the schemas | - |

Every file names an example `example`: a line of `examples.jsonl`, an attribution line, a failure in `run.json`
and a row of every table. Join on it. An attribution line's `tokens` holds one score per token of its example,
`words` one per word; `extra` holds what a method adds (attention maps, per-layer scores, an error's `contrast`:
its scores for the other of its true and predicted classes). A task that explains a row several times (per
label, entity or output token) has an example per explanation; `source` names the row.

## Tables

The same data as tidy tables in Parquet, built from the run as it was saved (reportgen never reads them back).
Their columns are the same for every task (null where a task does not fill them), and they name classes by
their names (those of `run.json` `model.labels`; for a language model, whose classes are its vocabulary, the
explained token's text where the run holds it).

- `tables/examples.parquet`, a row per example: `example` (the join key), `row` (the data row it explains),
  `text`, `text_pair`, `label`, `prediction`, `probability` (of the prediction), `probabilities` (per class,
  in the order of `model.labels`), `correct`, `group`, `truncated`, `failure` (why it failed, or null), and for
  multi-label tasks `labels` and `predicted` (lists of names).
- `tables/attributions.parquet`, a row per token score: `example`, `method`, `target` (the class explained),
  `contrast` (true: a misclassified example's scores for the other of its true and predicted classes),
  `position` (of the token), `token`, `word` (the token's word, null for special tokens), `score`.
- `tables/word_scores.parquet`, a row per word score: `example`, `method`, `target`, `contrast`, `word` (its
  position), `text` (the word), `score`.
- `tables/metrics.parquet`, a row per number of `run.json` `metrics.<metric>.result`: `metric`, `method`,
  `class`, `group`, `example` (where the number is about one), `item` (the list element it is in, as
  `summary[2]`), `statistic` (the path of keys to it, as `summary.comprehensiveness` or `overall.accuracy`),
  `value` and `standard_error` (where the result gives one).

With pandas:

```python
import pandas as pd

examples = pd.read_parquet("tables/examples.parquet")
scores = pd.read_parquet("tables/attributions.parquet")
joined = scores.merge(examples, on="example")
saliency = joined[(joined.method == "saliency") & ~joined.contrast]
metrics = pd.read_parquet("tables/metrics.parquet")
comprehensiveness = metrics[(metrics.metric == "faithfulness") & (metrics.statistic == "summary.comprehensiveness")]
```

or the lines themselves:

```python
examples = pd.read_json("examples.jsonl", lines=True)
saliency = pd.read_json("attributions/saliency.jsonl", lines=True)
joined = saliency.merge(examples, on="example")
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
