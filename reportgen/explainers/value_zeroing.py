"""Value zeroing (Mohebbi et al. 2023): how much each token's representation changes when another token's value
vectors are zeroed in one layer's attention, rolled out over the layers."""

from __future__ import annotations

import torch

from ..explain.batch import Batch
from ..explain.explainer import Explainer, Explanation, explainers
from ..load.layers import attribution_layers
from .attention import QUERY, refuse_short_examples

# BERT, RoBERTa and ELECTRA; DistilBERT; Llama-style decoders and BART; DeBERTa; MPNet
VALUE_NAMES = ("value", "v_lin", "v_proj", "value_proj", "v")
PACKED = "c_attn"  # GPT-2: one projection makes queries, keys and values


class _Captured(Exception):
    """Carries a layer's output out of the forward pass, which need not run the layers above it."""

    def __init__(self, output: torch.Tensor):
        super().__init__("captured")
        self.output = output


def value_projections(model) -> list[tuple[torch.nn.Module, slice]]:
    """Per encoder layer, the module that makes its attention's value vectors and where they are in its output:
    a Linear of its own (all of its output), or GPT-2's c_attn, whose output is queries, keys and values side by
    side (the last third); ValueError where a layer has neither (another fused projection)."""
    found = []
    for name, layer in attribution_layers(model)[1:]:
        own = [module for path, module in layer.named_modules()
               if path.rsplit(".", 1)[-1] in VALUE_NAMES and isinstance(module, torch.nn.Linear)]
        packed = [module for path, module in layer.named_modules()
                  if path.rsplit(".", 1)[-1] == PACKED and getattr(module, "nf", 0) % 3 == 0]
        if len(own) == 1:
            found.append((own[0], slice(None)))
        elif not own and len(packed) == 1:
            width = packed[0].nf // 3
            found.append((packed[0], slice(2 * width, 3 * width)))
        else:
            raise ValueError(f"value zeroing needs each layer's value projection (a Linear named value, v_lin, v_proj, "
                             f"value_proj or v, or GPT-2's c_attn); layer {name} of {type(model).__name__} has "
                             f"{len(own) + len(packed)}")
    return found


@explainers.register
class ValueZeroing(Explainer):
    name = "value_zeroing"
    reads_target = False
    description = (
        "Value zeroing (Mohebbi et al. 2023): per layer, the cosine distance between each token's output of that "
        "layer and its output when token j's value vectors are zeroed in every head of the layer, each row "
        "normalised to sum 1; the layers' matrices multiplied from the first layer up (rollout); the row of the "
        "token the classifier reads (the first of an encoder, the last of a decoder)."
    )
    parameters = {"query": QUERY}
    order = 12

    def check_model(self, model) -> None:
        super().check_model(model)
        try:
            value_projections(model.model)
        except ValueError as err:
            self.refuse(str(err))

    def attribute(self, batch: Batch) -> list[Explanation]:
        refuse_short_examples(batch, self.params["query"])
        model = batch.classifier.model
        layers = [module for _, module in attribution_layers(model)[1:]]
        projections = value_projections(model)
        scores = []
        for ex in batch.examples:
            alone = Batch(batch.runner, [ex])
            flow = None
            for layer, projection in zip(layers, projections):
                mixing = self.mixing(alone, layer, projection)
                flow = mixing if flow is None else mixing @ flow
            query = self.params["query"]
            scores.append(flow[query if query is not None else batch.task.query_positions([ex])[0]])
        return [Explanation(row.double().cpu().numpy()) for row in scores]

    def mixing(self, alone: Batch, layer: torch.nn.Module, projection: tuple[torch.nn.Module, slice]) -> torch.Tensor:
        """[tokens, tokens]: row i, column j: token i's change when token j's values are zeroed, rows summing to 1."""
        length = alone.lengths[0]
        original = self.layer_output(alone, layer, projection, [])[0]
        distances = torch.zeros((length, length), dtype=torch.float64)
        per_call = max(1, alone.runner.max_batch_tokens // length)
        for start in range(0, length, per_call):
            zeroed = list(range(start, min(length, start + per_call)))
            altered = self.layer_output(alone, layer, projection, zeroed)
            similarity = torch.nn.functional.cosine_similarity(altered.double(), original.double()[None], dim=-1)
            distances[:, zeroed] = (1 - similarity).T.cpu()
        totals = distances.sum(dim=1, keepdim=True)
        return torch.where(totals > 0, distances / totals.clamp_min(1e-300), torch.eye(length, dtype=torch.float64))

    @staticmethod
    @torch.no_grad()
    def layer_output(alone: Batch, layer: torch.nn.Module, projection: tuple[torch.nn.Module, slice],
                     zeroed: list[int]) -> torch.Tensor:
        """The layer's output for one copy of the example per position in ``zeroed`` (that position's values
        zeroed), or for the example itself when ``zeroed`` is empty: [copies, tokens, hidden]."""
        copies = max(1, len(zeroed))
        module, values = projection

        def zero_values(module, inputs, output):
            output = output.clone()
            for copy, position in enumerate(zeroed):
                output[copy, position, values] = 0
            return output

        def capture(module, inputs, output):
            raise _Captured(output[0] if isinstance(output, tuple) else output)

        hooks = [layer.register_forward_hook(capture)]
        if zeroed:
            hooks.append(module.register_forward_hook(zero_values))
        try:
            alone.runner.forward(alone.input_ids.repeat(copies, 1), alone.attention_mask.repeat(copies, 1))
        except _Captured as captured:
            return captured.output
        finally:
            for hook in hooks:
                hook.remove()
        raise RuntimeError("the layer was not reached in the forward pass")
