"""A fixed list of common English function words that the global explanations can hide."""

from __future__ import annotations

# Common English function words the page can hide from the top-word charts. Negations (no, not, nor, never),
# contrast words (but, though, although) and degree words (too, very, so, more, most, only, just) are left
# out on purpose: they carry sentiment.
FUNCTION_WORDS = frozenset("""
a an the this that these those some any each every all both either neither such
i me my mine we us our ours you your yours he him his she her hers it its they them their theirs
and or if then than as because while
of at by for from in into on onto to with without about above below over under up down out off
through between among after before during against upon within
is are was were be been being am has have had having do does did doing will would shall should can
could may might must
which who whom whose what when where why how there here s t d ll re ve m
""".split())


def is_function_word(word: str) -> bool:
    return word.strip().lower() in FUNCTION_WORDS
