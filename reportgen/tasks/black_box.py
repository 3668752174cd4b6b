"""Any framework through a black-box predictor (--predict module:function): a function from texts to class
probabilities, with a tokenizer (--tokenizer) that only cuts the texts into words.

The model is never seen, only asked: each word is one position of the input, and a removed word (occlusion,
faithfulness, lime, shap) is deleted from the text that the function is given.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..errors import ReportgenError
from ..results.records import Example
from .base import Encoded, tasks
from .sequence_classification import SequenceClassification

NEEDS_TORCH = "it reads the model's gradients or attention, and --predict gives only class probabilities"
WHITE_BOX_METHODS = ("attention", "attention_rollout", "value_zeroing", "saliency", "grad_x_input", "smoothgrad",
                     "gradient_shap", "integrated_gradients", "layer_integrated_gradients")


@tasks.register
class BlackBox(SequenceClassification):
    name = "black_box"
    description = ("A function from texts to class probabilities (--predict module:function: a TensorFlow, JAX, "
                   "ONNX or served model), its texts cut into words by --tokenizer; explained by removing words.")
    auto_class = ""
    order = 90
    windowed = False
    scores_texts = True
    randomisable = False  # no parameters to re-initialise
    excluded_methods = {name: NEEDS_TORCH for name in WHITE_BOX_METHODS}
    excluded_metrics = ("attention_atlas",)

    @classmethod
    def fits(cls, config: Any, paired: bool) -> bool:
        return False  # chosen by --predict, never from a config

    def class_names(self, config: Any) -> list[str]:
        raise ReportgenError("a black-box model's class names come from --class-names")

    def encode(self, tokenizer: Any, texts: list[str], max_length: int,
               pairs: list[str] | None = None) -> list[Encoded]:
        """One position per word of the tokenizer's first ``max_length`` tokens (its id: the word's first
        token's), and no special tokens: the function is given the text itself."""
        return [_by_word(enc) for enc in self.token_encode(tokenizer, texts, max_length, pairs)]

    def token_encode(self, tokenizer: Any, texts: list[str], max_length: int,
                     pairs: list[str] | None = None) -> list[Encoded]:
        return super().encode(tokenizer, texts, max_length, pairs)

    def forward(self, model: Any, input_ids: Any, attention_mask: Any, **kwargs: Any) -> Any:
        raise ValueError("a black-box model scores texts, not token ids")

    def query_positions(self, examples: Sequence[Example]) -> list[int]:
        raise ValueError("a black-box model has no attention to read")

    def baseline_id(self, model: Any) -> int:
        raise ValueError("a black-box model has no embeddings to integrate along")


def _by_word(enc: Encoded) -> Encoded:
    first: dict[int, int] = {}
    for token_id, word in zip(enc.input_ids, enc.word_ids):
        if word is not None:
            first.setdefault(word, token_id)
    return Encoded(input_ids=[first[w] for w in range(len(enc.words))], tokens=list(enc.words),
                   word_ids=list(range(len(enc.words))), words=list(enc.words), truncated=enc.truncated)
