"""Evaluation harnesses: `encore eval cpcd|moods|taste|text` measure the product through its own code paths
(the chat's understanding and ranking, the writer and its claim checker, the mood reader). They live beside the
product packages, not in them, and are not part of the wheel: run them from a source checkout."""
