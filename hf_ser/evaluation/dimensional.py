"""Score a saved dimensional model (task "regression" or "multitask") on a canonical-schema dataset.

The model's ``config.dims`` (e.g. ``["valence", "arousal"]``) name the dataset columns it is scored against.
Clips without a finite value for every dimension are left out with the reason, never guessed. Per dimension:
CCC (Lin), Pearson, Spearman and MAE (``hf_ser.metrics.regression_metrics``), plus the mean CCC, each CCC with
a percentile bootstrap interval over clips (``hf_ser.metrics.bootstrap_ccc_ci``). Values are compared on the
scale the corpus distributes (IEMOCAP 1-5, MSP-Podcast 1-7): a model trained on another scale loses CCC
through the mean and variance terms, which is what CCC is meant to measure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import datasets
import numpy as np
import torch

from hf_ser.corpora import speaker_key
from hf_ser.evaluation.inference import infer_logits
from hf_ser.metrics import bootstrap_ccc_ci, regression_metrics

TASKS_WITH_DIMS = ("regression", "multitask")


def model_dims(model: torch.nn.Module) -> list[str]:
    """The dimensions a model regresses (empty for a classification-only model)."""
    config = model.config
    if getattr(config, "task", "classification") not in TASKS_WITH_DIMS:
        return []
    return [str(d) for d in getattr(config, "dims", [])]


@dataclass
class DimensionalResult:
    """One dimensional evaluation: per-clip values and the scores with their intervals."""

    corpora: list[str]
    dims: list[str]
    utt_ids: list[str]
    rel_paths: list[str]
    corpus_of: list[str]
    speakers: list[str]
    references: np.ndarray  # (n, d)
    predictions: np.ndarray  # (n, d)
    metrics: dict[str, Any]  # regression_metrics + "ci": {dim: [low, high]}, "mean_ccc_ci"
    left_out: list[dict[str, str]] = field(default_factory=list)
    ci_settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": "dimensional",
            "corpora": self.corpora,
            "dims": self.dims,
            "metrics": self.metrics,
            "ci_settings": self.ci_settings,
            "n_scored": len(self.utt_ids),
            "n_left_out": len(self.left_out),
            "left_out": self.left_out,
        }

    def prediction_records(self) -> list[dict[str, Any]]:
        """One record per scored clip with reference and predicted value per dimension."""
        return [
            {
                "utt_id": u,
                "corpus": c,
                "rel_path": p,
                "speaker": s,
                **{f"{d}_reference": float(r[j]) for j, d in enumerate(self.dims)},
                **{f"{d}_prediction": float(q[j]) for j, d in enumerate(self.dims)},
            }
            for u, c, p, s, r, q in zip(
                self.utt_ids, self.corpus_of, self.rel_paths, self.speakers, self.references, self.predictions
            )
        ]


def _none(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def evaluate_dimensions(
    model: torch.nn.Module,
    feature_extractor,
    dataset: datasets.Dataset,
    *,
    dims: Sequence[str] | None = None,
    window_s: float | None = None,
    batch_size: int = 8,
    device: str = "cpu",
    progress: bool = True,
    n_boot: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
) -> DimensionalResult:
    """Score the model's dimensional outputs against the dataset's dimension columns (windows as in
    ``hf_ser.evaluation.inference``: a long clip's prediction is the mean over its windows).

    Raises:
        ValueError: the model regresses nothing, the dataset lacks a dimension column, or no clip has values.
    """
    dims = list(dims or model_dims(model))
    if not dims:
        raise ValueError("the model has no dimensional head (config.task is not regression / multitask)")
    missing = [d for d in dims if d not in dataset.column_names]
    if missing:
        raise ValueError(f"the target dataset has no column(s) {missing} for the model's dims {dims}")
    cols = {name: dataset[name] for name in ("utt_id", "corpus", "path", "rel_path", "label", "speaker")}
    values = np.array([dataset[d] for d in dims], dtype=np.float64).T.reshape(len(dataset), len(dims))
    left_out, kept = [], []
    for i, row in enumerate(values):
        if np.isfinite(row).all():
            kept.append(i)
        else:
            absent = [d for d, v in zip(dims, row) if not np.isfinite(v)]
            left_out.append(_left_out(cols, i, f"no {'/'.join(absent)} value"))
    durations = dataset["duration_s"] if "duration_s" in dataset.column_names else None
    preds, failures = infer_logits(
        model,
        feature_extractor,
        [cols["path"][i] for i in kept],
        None if durations is None else [durations[i] for i in kept],
        window_s=window_s,
        batch_size=batch_size,
        device=device,
        progress=progress,
        output="dims",
    )
    for pos, reason in sorted(failures.items()):
        left_out.append(_left_out(cols, kept[pos], reason))
    ok = [pos for pos in range(len(kept)) if pos not in failures]
    rows = [kept[pos] for pos in ok]
    if not rows:
        raise ValueError(f"no clip could be scored on {dims}: {len(left_out)} left out")
    refs, preds = values[rows], preds[ok].astype(np.float64)
    metrics = regression_metrics(refs, preds, dims)
    per_dim_ci, mean_ci = bootstrap_ccc_ci(refs, preds, n_boot=n_boot, seed=seed, alpha=alpha)
    metrics["ci"] = {d: None if np.isnan(lo) else [lo, hi] for d, (lo, hi) in zip(dims, per_dim_ci)}
    metrics["mean_ccc_ci"] = None if np.isnan(mean_ci[0]) else list(mean_ci)
    metrics["per_dim"] = {d: {k: _none(v) for k, v in m.items()} for d, m in metrics["per_dim"].items()}
    metrics["mean_ccc"] = _none(metrics["mean_ccc"])
    return DimensionalResult(
        corpora=sorted(set(cols["corpus"])),
        dims=dims,
        utt_ids=[cols["utt_id"][i] for i in rows],
        rel_paths=[cols["rel_path"][i] for i in rows],
        corpus_of=[cols["corpus"][i] for i in rows],
        speakers=[speaker_key(cols["corpus"][i], cols["speaker"][i]) for i in rows],
        references=refs,
        predictions=preds,
        metrics=metrics,
        left_out=left_out,
        ci_settings={"n_boot": n_boot, "seed": seed, "alpha": alpha},
    )


def _left_out(cols, i: int, reason: str) -> dict[str, str]:
    return {
        "utt_id": cols["utt_id"][i],
        "corpus": cols["corpus"][i],
        "rel_path": cols["rel_path"][i],
        "label": cols["label"][i],
        "reason": reason,
    }
