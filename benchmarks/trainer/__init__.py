"""``hf-ser bench``: hf_ser's training path against the Hugging Face example baseline, on the same work."""
