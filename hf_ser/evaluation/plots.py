"""PNG plots: confusion heatmaps, training curves, reliability diagrams with risk-coverage curves.

Figures are built with ``matplotlib.figure.Figure`` on the Agg canvas, never through ``pyplot``: no global
backend switch, no GUI, and nothing left open between calls (safe in tests and on headless servers).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from hf_ser.metrics.registry import METRICS, UA, WA

# Panels of plot_curves: title -> predicate on a history key.
CURVE_PANELS: dict[str, Any] = {
    "loss": lambda key: "loss" in key,
    **{
        METRICS[m].label: lambda key, m=m: key == m or key.endswith((f"_{m}", f"/{m}"))
        for m in (UA, WA)
    },
}
_X_KEYS = ("step", "epoch")


def _save(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return path


def plot_confusion(
    confusion: Sequence[Sequence[int]], labels: Sequence[str], path: str | Path, *, normalize: bool, title: str
) -> Path:
    """Write a confusion heatmap PNG.

    Args:
        confusion: ``(K, K)`` counts, rows = reference, columns = prediction.
        labels: the K class names.
        path: PNG file to write (folders are created).
        normalize: divide each row by its total (cells become recall fractions; empty rows stay 0).
        title: figure title; say corpus, split and masked/unmasked in it.

    Returns:
        ``path``.
    """
    counts = np.asarray(confusion, dtype=np.float64)
    if counts.shape != (len(labels), len(labels)):
        raise ValueError(f"confusion of shape {counts.shape} does not match {len(labels)} labels")
    totals = counts.sum(axis=1, keepdims=True)
    values = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0) if normalize else counts
    size = 1.0 + 0.7 * max(len(labels), 2)
    fig = Figure(figsize=(size + 1.5, size))
    ax = fig.add_subplot()
    image = ax.imshow(values, cmap="Blues", vmin=0, vmax=1 if normalize else max(values.max(), 1))
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(len(labels)), labels=list(labels), rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels=list(labels))
    ax.set_xlabel("predicted")
    ax.set_ylabel("reference")
    ax.set_title(title, fontsize=9)
    threshold = values.max() / 2 if values.size else 0
    for (r, c), v in np.ndenumerate(values):
        text = f"{v:.2f}" if normalize else f"{int(v)}"
        ax.text(c, r, text, ha="center", va="center", fontsize=7, color="white" if v > threshold else "black")
    return _save(fig, path)


def plot_curves(history: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Write training/validation curves (loss, UA, WA) as one PNG with a panel each.

    Args:
        history: one dict per logging point with ``step`` and/or ``epoch`` plus metric keys, e.g.
            ``{"step": 100, "epoch": 1.0, "train_loss": 1.2, "valid_loss": 1.3, "valid_ua": 0.4, "valid_wa": 0.5}``.
            Keys containing ``loss`` go to the loss panel; keys ``ua``/``*_ua``/``*/ua`` to UA, ``wa``/... to
            WA. Entries may miss keys (train and validation are logged at different steps).
        path: PNG file to write.

    Returns:
        ``path``.

    Raises:
        ValueError: no entry has a numeric value for any panel.
    """
    x_key = next((k for k in _X_KEYS if any(k in h for h in history)), None)
    keys = sorted({k for h in history for k, v in h.items() if k not in _X_KEYS and isinstance(v, (int, float))})
    panels = {title: [k for k in keys if match(k)] for title, match in CURVE_PANELS.items()}
    panels = {title: ks for title, ks in panels.items() if ks}
    if not panels:
        raise ValueError(f"history has no loss/UA/WA values to plot; keys seen: {keys}")
    fig = Figure(figsize=(4.5 * len(panels), 3.5))
    for n, (title, ks) in enumerate(panels.items(), start=1):
        ax = fig.add_subplot(1, len(panels), n)
        for key in ks:
            pts = [(h.get(x_key, i) if x_key else i, h[key]) for i, h in enumerate(history) if key in h]
            pts = [(x, y) for x, y in pts if y is not None]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", markersize=2, label=key)
        ax.set_title(title)
        ax.set_xlabel(x_key or "logging point")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_reliability(record: dict[str, Any], path: str | Path, *, title: str) -> Path:
    """Write a reliability diagram (accuracy against confidence per bin, with the diagonal of perfect calibration
    and each bin's share of clips) beside the risk-coverage curve (error of the answered clips as the least
    confident are left out).

    Args:
        record: a scored figure with ``reliability`` bins, ``risk_coverage``, ``ece`` and ``brier``
            (``hf_ser.evaluation.scoring.score_logits`` writes them).
        path: PNG file to write.
        title: say corpus, split and temperature in it.
    """
    bins = record["reliability"]
    fig = Figure(figsize=(9, 4))
    ax, ax_rc = fig.subplots(1, 2)
    centres = [(lo + hi) / 2 for lo, hi in zip(bins["lower"], bins["upper"])]
    width = bins["upper"][0] - bins["lower"][0]
    total = max(sum(bins["count"]), 1)
    accuracy = [a if a is not None else 0.0 for a in bins["accuracy"]]
    ax.bar(centres, accuracy, width=width * 0.9, color="#4C72B0", label="accuracy")
    ax.bar(centres, [c / total for c in bins["count"]], width=width * 0.4, color="#DD8452", alpha=0.7, label="share of clips")
    ax.plot([0, 1], [0, 1], "k--", linewidth=1, label="calibrated")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (top probability)")
    ax.set_ylabel("accuracy")
    ece, brier = record.get("ece"), record.get("brier")
    figures = f"ECE {ece:.3f}, Brier {brier:.3f}" if ece is not None and brier is not None else "no clips"
    ax.set_title(f"reliability ({figures})", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    curve = record.get("risk_coverage") or {"coverage": [], "risk": []}
    ax_rc.plot(curve["coverage"], curve["risk"], marker="o", markersize=3)
    ax_rc.set_xlim(0, 1)
    ax_rc.set_ylim(0, 1)
    ax_rc.set_xlabel("coverage (fraction answered, most confident first)")
    ax_rc.set_ylabel("risk (error rate of answered clips)")
    ax_rc.set_title("risk-coverage", fontsize=9)
    fig.suptitle(title, fontsize=9)
    return _save(fig, path)


def plot_timeline(
    segments: Sequence[Any], labels: Sequence[str], duration_s: float, path: str | Path, *, title: str
) -> Path:
    """Write an emotion timeline PNG of one recording (``hf-ser predict --plot``).

    Top: each class's probability over time, as steps over the segments (blank where no segment: silence or
    left-out speech). Bottom: the label band, one coloured bar per segment.

    Args:
        segments: objects with ``start_s``, ``end_s``, ``label`` and ``probabilities`` (``{label: p}``).
        labels: the model's classes, in its order (fixes the colours).
        duration_s: length of the recording (the x range).
    """
    colours = {lab: f"C{i % 10}" for i, lab in enumerate(labels)}
    fig = Figure(figsize=(max(6.0, min(18.0, duration_s / 4)), 3.2))
    top, band = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    for lab in labels:
        xs: list[float] = []
        ys: list[float] = []
        for seg in segments:
            xs += [seg.start_s, seg.end_s, seg.end_s]
            ys += [seg.probabilities.get(lab, 0.0)] * 2 + [np.nan]
        top.plot(xs, ys, color=colours[lab], label=lab, linewidth=1.4)
    for seg in segments:
        band.axvspan(seg.start_s, seg.end_s, color=colours.get(seg.label, "0.5"), alpha=0.85)
    top.set_ylim(0, 1)
    top.set_ylabel("probability")
    top.set_title(title, fontsize=9)
    top.legend(loc="upper right", fontsize=7, ncol=min(len(labels), 4))
    band.set_yticks([])
    band.set_xlim(0, max(duration_s, 1e-3))
    band.set_xlabel("time (s)")
    return _save(fig, path)
