"""Save the selected model: ``save_pretrained`` folders written atomically (temp folder + rename)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path


def save_model(model, feature_extractor, out_dir: Path) -> None:
    """``save_pretrained`` the model and its feature extractor into ``out_dir``, atomically (temp dir + rename)."""
    _save_atomically(model, feature_extractor, out_dir)
    if getattr(model.config, "adapter", None):
        # out_dir has the adapters merged (a plain model for pipeline and export); this copy keeps them apart,
        # loadable with from_pretrained for continued training.
        _save_atomically(model, feature_extractor, out_dir.with_name(out_dir.name + "_unmerged"), merge_adapter=False)


def _save_atomically(model, feature_extractor, out_dir: Path, **save_kwargs) -> None:
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True, **save_kwargs)
    feature_extractor.save_pretrained(tmp)
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)


def record_calibration(model_dir: Path, calibration: dict) -> None:
    """Store the fitted calibration (``{"temperature": T, ...}``) in the saved model's ``config.json`` under
    ``calibration``: ``hf_ser.load``, ``predict``, ``serve`` and the ONNX export read it from there."""
    path = model_dir / "config.json"
    config = json.loads(path.read_text())
    config["calibration"] = calibration
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
