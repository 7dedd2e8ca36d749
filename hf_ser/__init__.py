"""hf_ser: speech emotion recognition fine-tuning on the Hugging Face stack."""

__version__ = "0.1.0"
