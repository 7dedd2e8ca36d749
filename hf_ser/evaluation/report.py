"""Evaluation reports: ``report.json``, ``report.md``, confusion PNGs, per-clip predictions, terminal summary.

Every number is printed next to the facts that make it interpretable: target corpus, which clips
(split), the model's source corpora and folds, whether the evaluation is speaker-independent, masked or
unmasked, and the metric name (WA / UA / macro-F1).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hf_ser.evaluation.dimensional import DimensionalResult
from hf_ser.evaluation.evaluator import EvalResult
from hf_ser.evaluation.plots import plot_confusion, plot_reliability
from hf_ser.metrics.registry import CLASS_METRICS, METRICS, UA, WA

logger = logging.getLogger(__name__)

MASKING_NOTE = {
    "masked": "model classes absent from the target are excluded before the arg-max",
    "unmasked": "all model classes compete; predictions of classes the target lacks count as errors",
}


def speaker_independence(target_corpus: str, source_corpora: list[str] | None) -> str:
    """Say whether a target corpus shares speakers with the training data.

    Returns:
        ``"yes (cross-corpus)"``, ``"no (target corpus was in training)"`` or ``"unknown (...)"``.
    """
    if not source_corpora:
        return "unknown (the model's source corpora are not recorded)"
    if target_corpus in source_corpora:
        return "no (target corpus was in training)"
    return "yes (cross-corpus)"


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}"


def _fmt_ci(ci: list[float] | None) -> str:
    return "" if not ci else f" [{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]"


REFERENCE_NOTE = {
    "label": "the corpus label (CREMA-D: the acted, intended emotion)",
    "perceived_label": "the raters' majority label (CREMA-D: the crowd's vote; ties left out)",
}


def _corpus(name: str) -> str:
    """A results key's corpus: ``crema_d.perceived`` and ``iemocap.dims`` belong to ``crema_d`` / ``iemocap``."""
    return name.split(".")[0]


def _context(name: str, protocol: Mapping[str, Any]) -> dict[str, str]:
    sources = protocol.get("source_corpora") or []
    name = _corpus(name)
    return {
        "corpus": name,
        "split": str(protocol.get("target_split", "all usable clips")),
        "source": ", ".join(sources) if sources else "unknown",
        "folds": str(protocol.get("folds") or "unknown"),
        # A run's own split (evaluate --split) states what it shares; a corpus target says cross-corpus or not.
        "speaker_independent": protocol.get("speakers") or speaker_independence(name, sources),
    }


def summary_table(results: Mapping[str, EvalResult], protocol: Mapping[str, Any]) -> str:
    """Plain-text table for the terminal: one row per target corpus and masking mode.

    Returns:
        The table as one string (values in %, 95 % CI in brackets).
    """
    header = ["target", "reference", "split", "trained on (folds)", "spk-indep", "mode", "n", *(METRICS[k].label for k in CLASS_METRICS)]
    rows = []
    dim_rows = []
    for name, res in results.items():
        ctx = _context(name, protocol)
        if isinstance(res, DimensionalResult):
            m = res.metrics
            dim_rows += [
                [name, d, str(m["n"]), _fmt_ccc(m["per_dim"][d]["ccc"], m["ci"].get(d))] for d in res.dims
            ] + [[name, "mean", str(m["n"]), _fmt_ccc(m["mean_ccc"], m.get("mean_ccc_ci"))]]
            continue
        for mode in ("masked", "unmasked"):
            m = getattr(res, mode)
            rows.append(
                [
                    name,
                    res.reference,
                    ctx["split"],
                    f"{ctx['source']} ({ctx['folds']})",
                    ctx["speaker_independent"].split(" ")[0],
                    mode,
                    str(m["n"]),
                    *(_fmt(m[k]) + _fmt_ci(m["ci"].get(k)) for k in CLASS_METRICS),
                ]
            )
    lines = []
    if rows:
        lines += _text_table(header, rows)
        lines.append("(values in %, 95 % bootstrap CI in brackets; UA = unweighted average recall, WA = accuracy)")
    if dim_rows:
        lines += _text_table(["target", "dimension", "n", "CCC [95% CI]"], dim_rows)
        lines.append("(CCC = Lin's concordance correlation coefficient; 95 % bootstrap CI over clips in brackets)")
    return "\n".join(lines)


def _text_table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def _fmt_ccc(x: float | None, ci: list[float] | None) -> str:
    text = "n/a" if x is None else f"{x:.3f}"
    return text + ("" if not ci else f" [{ci[0]:.3f}, {ci[1]:.3f}]")


def _md_dimensional(name: str, res: DimensionalResult, protocol: Mapping[str, Any]) -> list[str]:
    ctx = _context(name, protocol)
    m = res.metrics
    out = [
        f"## Target: {name} (dimensions)",
        "",
        f"Target corpus **{ctx['corpus']}**, split: {ctx['split']}; model trained on {ctx['source']} (folds: "
        f"{ctx['folds']}); speaker-independent: {ctx['speaker_independent']}. Dimensions: {', '.join(res.dims)}.",
        "",
    ]
    rows = [
        [d, str(m["n"]), _fmt_ccc(v["ccc"], m["ci"].get(d)), _fmt_ccc(v["pearson"], None),
         _fmt_ccc(v["spearman"], None), _fmt_ccc(v["mae"], None)]
        for d, v in m["per_dim"].items()
    ]
    rows.append(["mean", str(m["n"]), _fmt_ccc(m["mean_ccc"], m.get("mean_ccc_ci")), "", "", ""])
    out += _md_table(["dimension", "n", "CCC [95% CI]", "Pearson", "Spearman", "MAE"], rows)
    out += ["", f"### {name}: left-out clips ({len(res.left_out)})", ""]
    if res.left_out:
        counts: dict[str, int] = {}
        for item in res.left_out:
            counts[item["reason"]] = counts.get(item["reason"], 0) + 1
        out += _md_table(["reason", "clips"], [[r, str(c)] for r, c in sorted(counts.items())])
        out.append("")
    return out


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows]


def _md_calibration(name: str, split: str, res: EvalResult, pngs: Mapping[str, str]) -> list[str]:
    """Calibration rows: ECE (15 bins), Brier, accuracy when answering only the most confident 50 / 80 / 100 %."""
    rows = []
    for mode in ("masked", "unmasked"):
        m = res.masked if mode == "masked" else res.unmasked
        if m.get("ece") is None:
            continue
        cov = m["accuracy_at_coverage"]
        rows.append([f"{name} / {split} / {mode}", f"{m['temperature']:.2f}", f"{m['ece']:.3f}", f"{m['brier']:.3f}",
                     *(_fmt(cov[k]) for k in ("50", "80", "100"))])
    if not rows:
        return []
    out = [f"### {name}: calibration and selective prediction", ""]
    out += _md_table(["corpus / split / mode", "temperature", "ECE", "Brier", "acc % @50% cov", "acc % @80% cov",
                      "acc % @100% cov"], rows)
    out += [""] + [f"![reliability {mode}]({pngs[f'{mode}_reliability']})" for mode in ("masked", "unmasked")
                   if f"{mode}_reliability" in pngs] + [""]
    return out


def _md_result(name: str, res: EvalResult, protocol: Mapping[str, Any], pngs: Mapping[str, str]) -> list[str]:
    ctx = _context(name, protocol)
    out = [
        f"## Target: {name}",
        "",
        f"Target corpus **{ctx['corpus']}**, split: {ctx['split']}; model trained on {ctx['source']} (folds: "
        f"{ctx['folds']}); speaker-independent: {ctx['speaker_independent']}.",
        f"Reference: `{res.reference}`, {REFERENCE_NOTE.get(res.reference, res.reference)}.",
        f"Model labels: {', '.join(res.plan.model_labels)}. Scored labels (masked): "
        f"{', '.join(res.plan.target_labels)}. Model labels absent from the target: "
        f"{', '.join(res.plan.absent_labels) or 'none'}.",
        "",
    ]
    rows = []
    for mode in ("masked", "unmasked"):
        m = res.masked if mode == "masked" else res.unmasked
        rows.append(
            [f"{name} / {ctx['split']} / {mode}", str(m["n"])]
            + [_fmt(m[k]) + _fmt_ci(m["ci"].get(k)) for k in CLASS_METRICS]
        )
    out += _md_table(["corpus / split / mode", "n", *(f"{METRICS[k].label} % [95% CI]" for k in CLASS_METRICS)], rows)
    out += ["", f"Masked: {MASKING_NOTE['masked']}. Unmasked: {MASKING_NOTE['unmasked']}.", ""]
    out += _md_calibration(name, ctx["split"], res, pngs)
    for mode in ("masked", "unmasked"):
        m = res.masked if mode == "masked" else res.unmasked
        out += [f"### {name}: per-class recall and precision ({mode})", ""]
        out += _md_table(
            ["label", "support", "recall %", "precision %", "F1 %"],
            [
                [
                    lab,
                    str(m["support"][lab]),
                    _fmt(m["per_class_recall"][lab]),
                    _fmt(m["per_class_precision"][lab]),
                    _fmt(m["per_class_f1"][lab]),
                ]
                for lab in m["labels"]
            ],
        )
        out += ["", f"### {name}: confusion ({mode}; rows = reference, columns = prediction)", ""]
        out += _md_table(
            ["reference \\ predicted", *m["labels"]],
            [[lab, *(str(v) for v in row)] for lab, row in zip(m["labels"], m["confusion"])],
        )
        out += [""] + [f"![{key}]({pngs[key]})" for key in pngs if key.startswith(mode)] + [""]
    for column, groups in res.breakdowns.items():
        out += [f"### {name}: by {column} (masked)", ""]
        out += _md_table(
            [column, "n", *(f"{METRICS[k].label} %" for k in (UA, WA))],
            [[g, str(v["n"]), _fmt(v[UA]), _fmt(v[WA])] for g, v in groups.items()],
        )
        out.append("")
    out += [f"### {name}: left-out clips ({len(res.left_out)})", ""]
    if res.left_out:
        out += _md_table(["reason", "clips"], [[r, str(c)] for r, c in sorted(res.left_out_counts.items())])
        out.append("")
    return out


def _protocol_lines(protocol: Mapping[str, Any]) -> list[str]:
    lines = ["## Protocol", ""]
    for key, value in protocol.items():
        if key == "target_loading" and isinstance(value, dict):
            # The full skip lists are in report.json; the markdown keeps the counts readable.
            for corpus, log in value.items():
                lines.append(
                    f"- **target_loading[{corpus}]**: found {log.get('found')}, used {log.get('used')}, "
                    f"outside the label set {log.get('excluded_by_label_set')}, skipped "
                    f"{len(log.get('skipped', []))} {json.dumps(log.get('reason_counts', {}))}"
                )
            continue
        text = json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value)
        lines.append(f"- **{key}**: {text}")
    return lines + [""]


def write_report(
    results: Mapping[str, EvalResult], out_dir: str | Path, *, protocol: Mapping[str, Any]
) -> dict[str, Path]:
    """Write every artefact of an evaluation into ``out_dir``.

    Args:
        results: target corpus name -> its ``EvalResult``.
        out_dir: folder (created).
        protocol: facts about the model and the evaluation (``model``, ``source_corpora``, ``folds``,
            ``model_label_set``, ``target_corpora``, ``target_split``, ``label_set``, ``label_map``, ...), written
            verbatim into both reports.

    Returns:
        Artefact name -> path: ``report_json``, ``report_md``, ``summary_txt``,
        ``predictions_<corpus>`` (JSON lines) and ``confusion_<corpus>_<masked|unmasked>_<counts|normalized>``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    protocol = dict(protocol)
    protocol.setdefault("target_corpora", list(results))
    protocol.setdefault("masking", MASKING_NOTE)
    md = ["# hf_ser evaluation report", ""] + _protocol_lines(protocol)
    report: dict[str, Any] = {"protocol": protocol, "results": {}}
    for name, res in results.items():
        if isinstance(res, DimensionalResult):
            pred_path = out / f"predictions_{name}.jsonl"
            pred_path.write_text("".join(json.dumps(r) + "\n" for r in res.prediction_records()))
            paths[f"predictions_{name}"] = pred_path
            entry = res.to_dict()
            entry["context"] = _context(name, protocol)
            entry["predictions_file"] = pred_path.name
            report["results"][name] = entry
            md += _md_dimensional(name, res, protocol)
            continue
        pngs: dict[str, str] = {}
        for mode in ("masked", "unmasked"):
            m = getattr(res, mode)
            ctx = _context(name, protocol)
            for normalize in (False, True):
                kind = "normalized" if normalize else "counts"
                png = out / f"confusion_{name}_{mode}_{kind}.png"
                title = (
                    f"{name} ({ctx['split']}), {mode}, {'row-normalised' if normalize else 'counts'}\n"
                    f"trained on {ctx['source']}; UA {_fmt(m[UA])} %, WA {_fmt(m[WA])} %, n={m['n']}"
                )
                plot_confusion(m["confusion"], m["labels"], png, normalize=normalize, title=title)
                paths[f"confusion_{name}_{mode}_{kind}"] = png
                pngs[f"{mode}_{kind}"] = png.name
            if "reliability" in m:
                png = out / f"reliability_{name}_{mode}.png"
                plot_reliability(m, png, title=f"{name} ({ctx['split']}), {mode}, temperature {m['temperature']:.2f}")
                paths[f"reliability_{name}_{mode}"] = png
                pngs[f"{mode}_reliability"] = png.name
        pred_path = out / f"predictions_{name}.jsonl"
        pred_path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in res.predictions()))
        paths[f"predictions_{name}"] = pred_path
        entry = res.to_dict()
        entry["context"] = _context(name, protocol)
        entry["predictions_file"] = pred_path.name
        report["results"][name] = entry
        md += _md_result(name, res, protocol, pngs)
    summary = summary_table(results, protocol)
    md += ["## Summary", "", "```", summary, "```", ""]
    paths["report_json"] = out / "report.json"
    paths["report_json"].write_text(json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False))
    paths["report_md"] = out / "report.md"
    paths["report_md"].write_text("\n".join(md))
    paths["summary_txt"] = out / "summary.txt"
    paths["summary_txt"].write_text(summary + "\n")
    logger.info("wrote evaluation report to %s", out)
    return paths
