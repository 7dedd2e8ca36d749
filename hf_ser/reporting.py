"""What a training run prints and plots: summary tables, confusion plots, curves, and the fold aggregate.

Every number printed names its corpus, split, protocol and metric (WA = accuracy, UA = unweighted average
recall, macro-F1).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hf_ser.fsutil import atomic_write_text
from hf_ser.metrics.over_folds import STD_NOTE, mean_std
from hf_ser.metrics.registry import CCC, CLASS_METRICS, METRICS
from hf_ser.modality import SPEECH
from hf_ser.run_dir import AGGREGATE_JSON, AGGREGATE_MD, METRICS_FILE, MODEL_DIR, RECIPE_FILE, write_json


def metric_line(metrics: dict, where: str) -> str:
    parts = [f"{METRICS[m].label} {100 * metrics[m]:.2f}%" for m in CLASS_METRICS if metrics.get(m) is not None]
    return f"{where}: " + ", ".join(parts) + f" (n={metrics.get('n', '?')})"


def fold_table(metrics: dict, run_dir: Path) -> str:
    """The end-of-run table: one row per evaluated split and corpus, with the protocol above it."""
    p = metrics["protocol"]
    # What the split really shares ("speaker-dependent split (speakers shared: 3)", "speakers unknown"); runs
    # written before it was recorded state the protocol's declaration.
    independence = p.get("speakers") or ("speaker-independent" if p["speaker_independent"] else "SPEAKER-DEPENDENT")
    lines = [
        "",
        f"Run {run_dir}: trained on {' + '.join(p['corpora'])}, protocol {p['protocol']} fold {p['fold']} "
        f"({independence}), modality {p.get('modality', SPEECH)}, label set {p['label_set']} = {', '.join(p['labels'])}",
        f"held-out test speakers: {', '.join(p['test_speakers']) or '-'}; validation speakers: {', '.join(p['valid_speakers']) or '-'}",
        "",
        f"| {'evaluated on':<28} | {'n':>5} | "
        + " | ".join(f"{METRICS[k].label + ' %':>{w}}" for k, w in _WIDTHS.items())
        + f" | {METRICS[CCC].label:>6} |",
        f"|{'-' * 30}|{'-' * 7}|" + "".join(f"{'-' * (w + 2)}|" for w in _WIDTHS.values()) + f"{'-' * 8}|",
    ]
    for key, m in metrics["results"].items():
        cells = [_pct(m.get(k), w) for k, w in _WIDTHS.items()]
        ccc = f"{m[CCC]:>6.3f}" if m.get(CCC) is not None else f"{'-':>6}"
        lines.append(f"| {key:<28} | {m['n']:>5} | " + " | ".join(cells) + f" | {ccc} |")
    lines += [
        "",
        "valid = model selection only; test = held-out speakers; cross = other corpus on the labels it shares with "
        "the model (other classes masked); cross_unmasked = all model classes allowed."
        + (" test_speech_only = the test clips without their transcripts." if p.get("modality", SPEECH) != SPEECH else ""),
        f"Outputs: {run_dir / MODEL_DIR} (saved model), {run_dir / METRICS_FILE}, {run_dir / RECIPE_FILE}, "
        f"confusion and reliability PNGs and curves.png in {run_dir}",
    ]
    return "\n".join(lines)


# Column widths of the class metrics in the fold table (the header's width).
_WIDTHS = {k: max(6, len(METRICS[k].label) + 2) for k in CLASS_METRICS}


def _pct(value: float | None, width: int) -> str:
    return f"{100 * value:>{width}.2f}" if value is not None else f"{'-':>{width}}"


def save_split_plots(run_dir: Path, results: dict) -> list[Path]:
    """Per evaluated split and corpus: a row-normalised confusion heatmap (``confusion_<key>.png``) and a
    reliability diagram with its risk-coverage curve (``reliability_<key>.png``)."""
    from hf_ser.evaluation.plots import plot_confusion, plot_reliability

    paths = []
    for key, m in results.items():
        name = key.replace("/", "_")
        if "confusion" in m:
            path = run_dir / f"confusion_{name}.png"
            plot_confusion(m["confusion"], m["labels"], path, normalize=True, title=f"{key} (row-normalised, n={m['n']})")
            paths.append(path)
        if "reliability" in m:
            path = run_dir / f"reliability_{name}.png"
            plot_reliability(m, path, title=f"{key} (n={m['n']}, temperature {m.get('temperature', 1.0):.2f})")
            paths.append(path)
    return paths


def save_curves(path: Path, history: list[dict]) -> None:
    from hf_ser.evaluation.plots import plot_curves

    if history:
        plot_curves(history, path)


def aggregate_folds(run_dir: Path, fold_metrics: dict[int, dict], *, protocol: str, speaker_independent: bool) -> dict:
    """Write ``aggregate.json`` (mean and sample std of every metric over folds) and ``aggregate.md``."""
    keys = sorted({k for m in fold_metrics.values() for k in m["results"]})
    modality = next((m["protocol"].get("modality", SPEECH) for m in fold_metrics.values()), SPEECH)
    agg: dict[str, Any] = {
        "protocol": protocol,
        "speaker_independent": speaker_independent,
        "modality": modality,
        "folds": sorted(fold_metrics),
        "std": STD_NOTE,
        "results": {},
    }
    for key in keys:
        agg["results"][key] = {}
        for metric in (*CLASS_METRICS, CCC):
            values = [
                fold_metrics[f]["results"][key][metric]
                for f in sorted(fold_metrics)
                if fold_metrics[f]["results"].get(key, {}).get(metric) is not None
            ]
            if not values:
                continue
            mean, std = mean_std(values)
            agg["results"][key][metric] = {"mean": mean, "std": std, "per_fold": values}
    write_json(run_dir / AGGREGATE_JSON, agg)
    lines = [
        f"# {run_dir.name}: {len(fold_metrics)} folds of `{protocol}` "
        f"({'speaker-independent' if speaker_independent else 'speaker-DEPENDENT'}), modality {modality}",
        "",
    ]
    for key in keys:
        lines += [f"## {key}", "", "| fold | " + " | ".join(METRICS[m].label + " %" for m in CLASS_METRICS) + " |", "|---" * (len(CLASS_METRICS) + 1) + "|"]
        for f in sorted(fold_metrics):
            r = fold_metrics[f]["results"].get(key)
            if r:
                lines.append(f"| {f} | " + " | ".join(_pct(r.get(m), 0).strip() for m in CLASS_METRICS) + " |")
        a = agg["results"][key]
        lines.append(
            "| mean ± std | "
            + " | ".join(f"{100 * a[m]['mean']:.2f} ± {100 * a[m]['std']:.2f}" if m in a else "-" for m in CLASS_METRICS)
            + " |"
        )
        lines.append("")
    atomic_write_text(run_dir / AGGREGATE_MD, "\n".join(lines))
    return agg
