"""Fixtures for model tests: tiny random backbones and padded waveform batches."""

import sys
from pathlib import Path

import pytest
import torch

# As tests/conftest.py does for audio_fixtures: make `from tiny_models import ...` work under any import mode.
sys.path.insert(0, str(Path(__file__).parent))



@pytest.fixture
def padded_batch() -> tuple[torch.Tensor, torch.Tensor, int]:
    """Two clips (1.0 s and 0.55 s at 16 kHz) padded with zeros into one batch.

    Returns:
        input_values: (2, 16000), attention_mask: (2, 16000) long, and the short clip's length.
    """
    generator = torch.Generator().manual_seed(0)
    short = 8_800
    input_values = torch.randn(2, 16_000, generator=generator)
    attention_mask = torch.ones(2, 16_000, dtype=torch.long)
    attention_mask[1, short:] = 0
    return input_values * attention_mask, attention_mask, short
