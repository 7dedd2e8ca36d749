"""A finished run's own split, loaded again for ``hf-ser evaluate RUN_DIR --split test``.

The clips are those the run's fold manifests list for the side (its held-out test speakers, or validation), loaded
from the corpora the run's ``recipe.resolved.yaml`` names, with the run's label set, label maps and loader
options, so the scores are the run's own test figures, recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import datasets

from hf_ser.corpora import clip_key, load_corpus, read_columns
from hf_ser.errors import UserError
from hf_ser.run_dir import MODEL_DIR, RECIPE_FILE, SIDES, load_run, read_manifests


class RunSplitError(UserError, ValueError):
    """The folder is not a finished run with manifests, or its data changed since it trained."""


@dataclass(frozen=True)
class FoldSplit:
    """One fold's saved model and the clips of the requested side."""

    name: str  # "" for a one-fold run, else "fold_<k>"
    model_dir: Path
    dataset: datasets.Dataset


def run_root(path: str | Path) -> Path:
    """The run folder of ``path`` (a run folder, or its ``model/``)."""
    path = Path(path).expanduser().resolve()
    return path.parent if path.name == MODEL_DIR and (path.parent / RECIPE_FILE).is_file() else path


def load_run_split(run_dir: str | Path, side: str, *, min_samples: int = 0) -> list[FoldSplit]:
    """Every fold of ``run_dir`` with its model and its ``side`` clips, in fold order.

    Raises:
        RunSplitError: no ``recipe.resolved.yaml``, no fold with a model and manifests, or a manifest clip
            missing from the data (named, with the count).
    """
    if side not in SIDES:
        raise RunSplitError(f"--split must be one of {list(SIDES)}, got {side!r}")
    root = run_root(run_dir)
    recipe = load_run(root).recipe
    if not recipe:
        raise RunSplitError(f"{root} holds no {RECIPE_FILE}: --split needs a run folder written by hf-ser train")
    folds = [root] + sorted(root.glob("fold_*"), key=lambda p: int(p.name.split("_")[1]) if p.name[5:].isdigit() else -1)
    ready = [f for f in folds if (f / MODEL_DIR / "config.json").is_file() and side in read_manifests(f)]
    if not ready:
        raise RunSplitError(f"{root} has no saved model with {side} manifests (a run that did not finish?)")
    data = recipe.get("data") or {}
    parts = []
    for spec in data.get("corpora") or []:
        ds, _ = load_corpus(
            spec["name"], spec["root"], label_set=data.get("label_set", "all"),
            label_map=spec.get("label_map") or None, min_samples=min_samples, **(spec.get("options") or {}),
        )
        parts.append(ds)
    dataset = parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts)
    cols = read_columns(dataset, ("corpus", "utt_id"))
    index = {clip_key(c, u): i for i, (c, u) in enumerate(zip(cols["corpus"], cols["utt_id"]))}
    out = []
    for fold in ready:
        keys = [clip_key(r["corpus"], r["utt_id"]) for r in read_manifests(fold)[side]]
        missing = [k for k in keys if k not in index]
        if missing:
            raise RunSplitError(
                f"{fold}: {len(missing)} clips of its {side} manifest are not in the data any more (first: {missing[0]})"
            )
        name = "" if fold == root else fold.name
        out.append(FoldSplit(name, fold / MODEL_DIR, dataset.select([index[k] for k in keys])))
    return out
