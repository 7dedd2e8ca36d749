"""Save the selected model: ``save_pretrained`` folders written atomically and durably (``hf_ser.fsutil``)."""

from __future__ import annotations

import json
from pathlib import Path

from hf_ser.fsutil import atomic_dir, atomic_write_text


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


def record_calibration(model_dir: Path, calibration: dict) -> None:
    """Store the fitted calibration (``{"temperature": T, ...}``) in the saved model's ``config.json`` under
    ``calibration``: ``hf_ser.load``, ``predict``, ``serve`` and the ONNX export read it from there."""
    path = model_dir / "config.json"
    config = json.loads(path.read_text())
    config["calibration"] = calibration
    atomic_write_text(path, json.dumps(config, indent=2, sort_keys=True) + "\n")
