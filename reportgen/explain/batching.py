"""Batched model calls: length-sorted, dynamically padded, bounded by a token budget."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from ..load.model import PRECISIONS, Classifier, autocast
from ..ops.words import without_words
from ..results.records import Example
from .perturbed import visible_text
from .windows import Windows


def text_without_replaced(text: str, ids: Sequence[int], example: Example) -> str:
    """``text`` (what the model sees of the example's) without the words whose positions ``ids`` replaces
    (``ids``: a copy of the example's ids)."""
    removed = {example.word_ids[p] for p, (now, was) in enumerate(zip(ids, example.input_ids))
               if now != was and example.word_ids[p] is not None}
    return without_words(text, example.words, removed)

# Padded tokens per model batch. On CPU, larger batches outgrow the caches and run slower per token;
# on CUDA they keep the device busy (benchmarks/RESULTS.md measures both).
DEFAULT_MAX_BATCH_TOKENS = {"cpu": 2048, "cuda": 8192}
DEFAULT_MAX_BATCH_SIZE = 512
MIN_FILL = 16
MAX_PADDING = 0.15


def length_batches(lengths: Sequence[int], max_tokens: int, max_size: int = DEFAULT_MAX_BATCH_SIZE) -> list[list[int]]:
    """Group positions into batches of similar length whose padded size fits ``max_tokens``.

    Once a batch is reasonably full, it is also closed before padding would exceed
    ``MAX_PADDING`` of its tokens: wide length ranges in one batch waste compute on pads.
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    real = 0
    for position in order:
        padded = lengths[position] * (len(current) + 1)
        wasteful = len(current) >= MIN_FILL and 1 - (real + lengths[position]) / padded > MAX_PADDING
        if current and (padded > max_tokens or len(current) >= max_size or wasteful):
            batches.append(current)
            current, real = [], 0
        current.append(position)
        real += lengths[position]
    if current:
        batches.append(current)
    return batches


def default_max_batch_tokens(device: torch.device | str) -> int:
    """The token budget per model batch for a device type (CUDA's for other accelerators)."""
    kind = torch.device(device).type
    return DEFAULT_MAX_BATCH_TOKENS.get(kind, DEFAULT_MAX_BATCH_TOKENS["cuda"])


class ModelRunner:
    """Runs a model on lists of token ids and counts the sequences it evaluates."""

    def __init__(
        self,
        classifier: Classifier,
        max_batch_tokens: int | None = None,
        max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
        precision: str = "float32",
    ):
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
        self.classifier = classifier
        self.model = classifier.model
        self.device = classifier.device
        if max_batch_tokens is None:
            max_batch_tokens = default_max_batch_tokens(self.device)
        self.max_batch_tokens = max_batch_tokens
        self.max_batch_size = max_batch_size
        self.precision = precision
        self.evaluations = 0
        self.real_tokens = {"forward": 0, "attention": 0, "gradient": 0}  # per kind of call (_call_kind)
        self.batch_sizes: list[int] = []
        self.windows: Windows | None = None  # how inputs longer than the model reads are read (--long-text window)

    @property
    def task(self):
        """The task of the model this runner calls."""
        return self.classifier.task

    @property
    def width(self) -> int:
        """Classes per model answer: the model's own (an NLI model's, for zero-shot labels), else the run's."""
        config = getattr(self.model, "config", None)
        return int(getattr(config, "num_labels", 0) or len(self.classifier.labels))

    def batches(self, lengths: Sequence[int], scale: int = 1) -> list[list[int]]:
        """Batches for inputs that each expand into ``scale`` model sequences."""
        budget = max(self.max_batch_tokens // max(scale, 1), 1)
        size = max(self.max_batch_size // max(scale, 1), 1)
        return length_batches(lengths, budget, size)

    def pad(self, id_lists: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Right-pad id lists into an ids tensor and an attention mask on the model's device."""
        longest = max(len(ids) for ids in id_lists)
        ids = torch.full((len(id_lists), longest), self.classifier.pad_id, dtype=torch.long)
        mask = torch.zeros((len(id_lists), longest), dtype=torch.long)
        for row, values in enumerate(id_lists):
            ids[row, : len(values)] = torch.as_tensor(values, dtype=torch.long)
            mask[row, : len(values)] = 1
        return ids.to(self.device), mask.to(self.device)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor, **kwargs):
        """One model call through the task; ``kwargs`` may carry inputs_embeds (which the model reads instead
        of ``ids``; the task may still read the ids, for token types, say) or output_attentions."""
        self.evaluations += mask.shape[0]
        self.real_tokens[_call_kind(kwargs)] += int(mask.sum())
        self.batch_sizes.append(mask.shape[0])
        with self.autocast():
            return self.task.forward(self.model, ids, mask, **kwargs)

    def autocast(self):
        """The context every model call runs in: bfloat16 autocast under --precision bfloat16, else none."""
        return autocast(self.device, self.precision)

    @torch.no_grad()
    def predict_ids(self, id_lists: Sequence[Sequence[int]], classes: Sequence[int] | None = None,
                    explained: Sequence[Example] | None = None) -> np.ndarray:
        """The task's class probabilities for each id list; identical inputs are evaluated once.

        With ``explained`` (per id list, the example whose target it is scored for) or ``classes`` (per id
        list, a class), only the explained probability of each input (the task's ``target_probabilities``),
        picked on the device: a 1-d array instead of one row of every class per input.
        """
        if classes is not None:
            explained = [Example(index=0, text="", target=int(c)) for c in np.asarray(classes).reshape(-1)]
        if self.task.scores_texts:
            return self._scored_as_texts(id_lists, explained)
        if self.windows is not None and any(self.windows.is_long(ids) for ids in id_lists):
            return self._windowed(id_lists, explained, pick=True)
        unique: dict[tuple[int, ...], int] = {}
        keys = [unique.setdefault(tuple(ids), len(unique)) for ids in id_lists]
        distinct = list(unique)
        if explained is not None:
            return self._picked(distinct, keys, explained)
        probs = np.zeros((len(distinct), self.width), dtype=np.float64)
        for batch in self.batches([len(ids) for ids in distinct]):
            ids, mask = self.pad([distinct[i] for i in batch])
            probs[batch] = self.task.probabilities(self.forward(ids, mask).logits).cpu().numpy()
        return probs[keys] if keys else probs

    def _picked(self, distinct: Sequence[tuple[int, ...]], keys: list[int], explained: Sequence[Example]) -> np.ndarray:
        """Per input, its explained probability; inputs sharing a distinct id list share its model call."""
        if len(explained) != len(keys):
            raise ValueError(f"explained must hold one example per id list: {len(explained)} for {len(keys)}")
        inputs_of: list[list[int]] = [[] for _ in distinct]
        for position, key in enumerate(keys):
            inputs_of[key].append(position)
        picked = np.zeros(len(keys), dtype=np.float64)
        for batch in self.batches([len(ids) for ids in distinct]):
            rows = [row for row, key in enumerate(batch) for _ in inputs_of[key]]
            positions = [position for key in batch for position in inputs_of[key]]
            ids, mask = self.pad([distinct[i] for i in batch])
            logits = self.forward(ids, mask).logits
            targets = self.task.target_tensor([explained[p] for p in positions], ids.shape[1], ids.device)
            rows_of = torch.as_tensor(rows, device=ids.device)
            picked[positions] = self.task.target_probabilities(logits[rows_of], targets).double().cpu().numpy()
        return picked

    def score_texts(self, texts: Sequence[str]) -> np.ndarray:
        """A black-box model's class probabilities for texts (--predict); identical texts are scored once."""
        unique: dict[str, int] = {}
        keys = [unique.setdefault(text, len(unique)) for text in texts]
        distinct = list(unique)
        probs = np.zeros((len(distinct), len(self.classifier.labels)), dtype=np.float64)
        for start in range(0, len(distinct), self.max_batch_size):
            chunk = distinct[start: start + self.max_batch_size]
            self.evaluations += len(chunk)
            self.batch_sizes.append(len(chunk))
            probs[start: start + len(chunk)] = self.model(chunk)
        return probs[keys]

    def _scored_as_texts(self, id_lists: Sequence[Sequence[int]], explained: Sequence[Example] | None) -> np.ndarray:
        """A black-box model's probabilities for copies of examples' words, some removed: every class, or with
        ``explained`` naming targets, the target's."""
        if explained is None or len(explained) != len(id_lists) or not all(ex.words for ex in explained):
            raise ValueError("a black-box model scores texts: give the example each id list is a copy of")
        seen = {id(ex): visible_text(self.classifier, ex) for ex in explained}
        probs = self.score_texts([text_without_replaced(seen[id(ex)], ids, ex) for ids, ex in zip(id_lists, explained)])
        if any(ex.target is None for ex in explained):
            return probs
        return probs[np.arange(len(probs)), [ex.target for ex in explained]]

    def readable(self, example: Example) -> Example:
        """The example, or its first window when it is longer than the model reads (--long-text window)."""
        if self.windows is None or not self.windows.is_long(example.input_ids):
            return example
        return self.windows.units(example)[0]

    def window_probabilities(self, examples: Sequence[Example]) -> np.ndarray:
        """Per example, the task's class probabilities from the mean of its windows' logits (one window for an
        example the model reads whole)."""
        return self._windowed([ex.input_ids for ex in examples], examples, pick=False)

    @torch.no_grad()
    def _windowed(self, id_lists: Sequence[Sequence[int]], examples: Sequence[Example] | None, pick: bool) -> np.ndarray:
        """Per id list (each a copy of its example's tokens, some replaced), the probabilities of the mean of
        its windows' logits: every class, or with ``pick`` the explained one."""
        if examples is None or len(examples) != len(id_lists) or self.windows is None:
            raise ValueError("inputs longer than the model reads are read in windows of their examples' words: "
                             "give one example per id list")
        inputs, owners = [], []
        for position, (ids, ex) in enumerate(zip(id_lists, examples)):
            windows = self.windows.window_inputs(ids, ex.word_ids)
            inputs += windows
            owners += [position] * len(windows)
        logits = self.logits(inputs)
        owner = torch.as_tensor(owners)
        mean = torch.zeros((len(id_lists), logits.shape[1]), dtype=torch.float64).index_add_(0, owner, logits)
        mean /= torch.bincount(owner, minlength=len(id_lists))[:, None]
        if not pick:
            return self.task.probabilities(mean).double().numpy()
        targets = self.task.target_tensor(examples, mean.shape[1], mean.device)
        return self.task.target_probabilities(mean, targets).double().numpy()

    @torch.no_grad()
    def logits(self, id_lists: Sequence[Sequence[int]]) -> torch.Tensor:
        """The model's logits [inputs, classes] for id lists the model reads whole, on the host in float64."""
        unique: dict[tuple[int, ...], int] = {}
        keys = [unique.setdefault(tuple(ids), len(unique)) for ids in id_lists]
        distinct = list(unique)
        logits = torch.zeros((len(distinct), self.width), dtype=torch.float64)
        for batch in self.batches([len(ids) for ids in distinct]):
            ids, mask = self.pad([distinct[i] for i in batch])
            logits[batch] = self.forward(ids, mask).logits.double().cpu()
        return logits[keys]

    def batch_size_summary(self) -> dict[str, float]:
        """How many model calls were made and how many sequences they held: mean, largest, smallest."""
        sizes = self.batch_sizes
        if not sizes:
            return {}
        return {"calls": len(sizes), "mean": float(np.mean(sizes)), "max": int(max(sizes)), "min": int(min(sizes))}

    def predict_texts(self, texts: Sequence[str], pairs: Sequence[str] | None = None) -> np.ndarray:
        """Class probabilities for raw strings, each with its pair where given (tokenised with truncation,
        the longer of a pair's texts first)."""
        if not len(texts):
            return np.zeros((0, self.width))
        if self.task.scores_texts:
            return self.score_texts(list(texts))
        encoded = self.classifier.tokenizer(list(texts), None if pairs is None else list(pairs), truncation=True,
                                            max_length=self.classifier.max_length)
        return self.predict_ids(encoded["input_ids"])

    def predict_inputs(self, inputs: Sequence[str | tuple[str, str]]) -> np.ndarray:
        """Class probabilities for model inputs: strings, or (text, pair) tuples for a task that reads pairs."""
        if len(inputs) and isinstance(inputs[0], tuple):
            return self.predict_texts([text for text, _ in inputs], [pair for _, pair in inputs])
        return self.predict_texts(list(inputs))


def _call_kind(kwargs: dict) -> str:
    """A model call's kind, for throughput: with gradients, returning attention weights, or plain."""
    if torch.is_grad_enabled():
        return "gradient"
    return "attention" if kwargs.get("output_attentions") else "forward"
