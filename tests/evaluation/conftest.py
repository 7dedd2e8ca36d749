"""Fixtures for evaluation tests: a tiny random saved audio classifier and a fake corpus in the registry."""

import sys
from pathlib import Path

import pytest
import torch

# Same pattern as tests/conftest.py: make this folder's helpers importable as `from eval_fixtures import ...`.
sys.path.insert(0, str(Path(__file__).parent))

from eval_fixtures import load_fake, save_model, tiny_classifier, write_fake_corpus

import hf_ser.corpora
from hf_ser.corpora._base import CorpusInfo


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """``runs/demo/model`` with a random tiny classifier whose bias makes "calm" win every clip."""
    model = tiny_classifier()
    with torch.no_grad():
        # Constant logits: calm > happiness > anger = neutral. The target below has no calm clip, so unmasked
        # predictions are always wrong and masked ones are always "happiness".
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor([0.0, 5.0, 1.0, 0.0]))
    return save_model(model, tmp_path_factory.mktemp("runs") / "demo" / "model")


@pytest.fixture
def fake_corpus(tmp_path, monkeypatch) -> Path:
    """A fake corpus registered as "fake" (and "fake2", same loader) for the duration of a test."""
    info = CorpusInfo(name="fake", title="fake", languages=("en",), labels=(), license="", url="")
    entry = hf_ser.corpora.CorpusEntry(info, load_fake)
    monkeypatch.setitem(hf_ser.corpora.CORPORA, "fake", entry)
    monkeypatch.setitem(hf_ser.corpora.CORPORA, "fake2", entry)
    return write_fake_corpus(tmp_path / "fake_root")
