"""The report stage: one self-contained HTML page and a model-card section, from saved results only."""
