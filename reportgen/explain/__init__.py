"""The explain stage: model batches, the explainer contract, the engine and its checkpoint."""
