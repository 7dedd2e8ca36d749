"""Measurement tooling: hf_ser against baselines, GPU checks, scaling probes. Imports hf_ser; hf_ser never imports it
(``hf-ser bench`` loads ``benchmarks.trainer`` only when that command runs)."""
