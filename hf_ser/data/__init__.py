"""Data pipeline: the prepare-once audio store (``store``) and batching."""
