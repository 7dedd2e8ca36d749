"""Save the selected model: ``save_pretrained`` folders written atomically (temp folder + rename)."""

from __future__ import annotations

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
