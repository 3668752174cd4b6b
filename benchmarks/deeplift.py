"""Why reportgen offers no DeepLIFT: Captum's DeepLift does not keep DeepLIFT's defining property on a transformer.

    python benchmarks/deeplift.py            # the demo model, writes benchmarks/deeplift.txt

DeepLIFT's scores sum to the change of the output between the baseline and the input (summation-to-delta). Captum
propagates its multipliers through the non-linearities it finds as modules; a transformer's attention multiplies two
activations and applies a functional softmax, which Captum passes with plain gradients. This script runs Captum's
DeepLift on the word embeddings of the demo model (all-MiniLM-L6-v2 fine-tuned on Rotten Tomatoes, cached by
`reportgen demo`) for the first 20 held-out reviews, with integrated gradients' baseline (each word token's embedding
replaced by the padding token's, special tokens kept), and compares the sum of its scores with the change of the
predicted class's logit.
"""

from __future__ import annotations

import platform
import sys
import warnings
from pathlib import Path

import torch

OUT = Path(__file__).resolve().parent / "deeplift.txt"
EXAMPLES = 20


class LogitsOfEmbeddings(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, embeds, mask):
        return self.model(inputs_embeds=embeds, attention_mask=mask).logits


def main() -> None:
    from captum.attr import DeepLift

    from reportgen.load import demo
    from reportgen.load.model import load_classifier

    warnings.simplefilter("ignore")  # Captum's notes about the hooks it sets
    classifier = load_classifier(demo.default_model_dir(progress=False), device="cpu")
    forward = LogitsOfEmbeddings(classifier.model)
    rows = []
    for text in demo.load_corpus().held_out.texts[:EXAMPLES]:
        enc = classifier.encode([text])[0]
        ids = torch.tensor([enc.input_ids])
        mask = torch.ones_like(ids)
        baseline_ids = torch.where(torch.tensor([[w is None for w in enc.word_ids]]), ids,
                                   torch.full_like(ids, classifier.pad_id))
        embeds, baseline = classifier.embeddings()(ids).detach(), classifier.embeddings()(baseline_ids).detach()
        with torch.no_grad():
            logits, base_logits = forward(embeds, mask)[0], forward(baseline, mask)[0]
        target = int(logits.argmax())
        scores = DeepLift(forward).attribute(embeds.clone().requires_grad_(True), baselines=baseline, target=target,
                                             additional_forward_args=(mask,))
        rows.append((float(scores.sum()), float(logits[target] - base_logits[target])))
    errors = sorted(abs(total - change) / abs(change) for total, change in rows)
    wrong_sign = sum((total > 0) != (change > 0) for total, change in rows)
    lines = [
        f"Captum DeepLift on the demo model, {len(rows)} held-out reviews ({platform.machine()}, torch {torch.__version__})",
        "sum of DeepLift scores | change of the predicted class's logit (input - baseline)",
        *[f"{total:+.3f} | {change:+.3f}" for total, change in rows],
        f"median |sum - change| / |change|: {errors[len(errors) // 2]:.2f}; largest: {errors[-1]:.2f}",
        f"sum of the wrong sign: {wrong_sign} of {len(rows)}",
    ]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
