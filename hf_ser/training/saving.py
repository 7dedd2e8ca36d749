"""Save the selected model: ``save_pretrained`` folders written atomically and durably (``hf_ser.fsutil``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hf_ser.fsutil import atomic_dir, atomic_write_text
from hf_ser.modality import TRANSCRIPTS_CONFIG_KEY


def save_model(model, feature_extractor, out_dir: Path, tokenizer=None) -> None:
    """``save_pretrained`` the model and its feature extractor (and the transcript tokenizer of a speech + text
    model) into ``out_dir``, atomically (temp dir + rename)."""
    _save_atomically(model, feature_extractor, out_dir, tokenizer=tokenizer)
    if getattr(model.config, "adapter", None) or getattr(model.config, "text_adapter", None):
        # out_dir has the adapters (of either encoder) merged (a plain model for pipeline and export); this copy keeps them apart,
        # loadable with from_pretrained for continued training.
        _save_atomically(
            model, feature_extractor, out_dir.with_name(out_dir.name + "_unmerged"), tokenizer=tokenizer, merge_adapter=False
        )


def _save_atomically(model, feature_extractor, out_dir: Path, tokenizer=None, **save_kwargs) -> None:
    # The previous model stays in place until the new one is complete and renamed over it (hf_ser.fsutil).
    with atomic_dir(out_dir) as tmp:
        model.save_pretrained(tmp, safe_serialization=True, **save_kwargs)
        feature_extractor.save_pretrained(tmp)
        if tokenizer is not None:
            tokenizer.save_pretrained(tmp)


def record_in_config(model_dir: Path, **entries: Any) -> None:
    """Store what training learned about the saved model (``entries``: key -> JSON value) in its ``config.json``:
    ``hf_ser.load``, ``predict``, ``serve``, ``evaluate`` and the ONNX export read it from there
    (``hf_ser.inference.backends.ModelSettings``)."""
    path = model_dir / "config.json"
    config = json.loads(path.read_text())
    config.update(entries)
    atomic_write_text(path, json.dumps(config, indent=2, sort_keys=True) + "\n")


def record_calibration(model_dir: Path, calibration: dict) -> None:
    """The fitted calibration (``{"temperature": T, ...}``), under ``calibration``."""
    record_in_config(model_dir, calibration=calibration)


def record_transcripts(model_dir: Path, asr: str) -> None:
    """The recogniser that made the training transcripts (``data.transcripts.asr``), under ``transcripts``:
    ``hf_ser.load(..., asr="auto")`` runs it for inputs without a transcript (``hf_ser.modality.recorded_asr``)."""
    record_in_config(model_dir, **{TRANSCRIPTS_CONFIG_KEY: {"asr": asr}})
