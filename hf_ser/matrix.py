"""``hf-ser matrix``: train on each source set, test on each target corpus, one table.

A matrix file names a base recipe, the source sets, the targets and the label sets to try::

    base: ravdess_tiny.yaml          (relative paths: from the matrix file's folder)
    output_dir: runs/demo_matrix
    label_sets: [all, 6class]
    sources:
      ravdess: [{name: ravdess, root: ../../hf_ser/demo_data/ravdess}]
      ravdess+emodb: [{name: ravdess, root: ...}, {name: emodb, root: ...}]
    targets: [{name: crema_d, root: ../../hf_ser/demo_data/crema_d}]
    overrides: [train.epochs=20]

Every cell is a normal training run (``hf_ser.train.run``) on the base recipe (with ``overrides`` applied
once) whose corpora, targets, label set and output folder are replaced by typed fields; its model is selected
on the validation speakers of its own source corpora only, and a target is never part of its training or
validation data (a target that is also a source of a row is left out of that row). ``matrix.json`` and
``matrix.md`` hold the table: rows = source set x label set, columns = targets (masked to the shared labels,
and unmasked); the table is also printed to stdout.

    hf-ser matrix recipes/demo/multilingual_matrix.yaml     (hf_ser.commands.matrix)
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hf_ser.config import (
    CorpusSpec,
    RecipeConfig,
    RecipeError,
    anchor_roots,
    check_schema,
    load_recipe,
    schema,
)
from hf_ser.metrics.registry import CALIBRATION, CLASS_METRICS, UA, WA
from hf_ser.modality import SPEECH
from hf_ser.run_dir import write_json

logger = logging.getLogger(__name__)


@schema
@dataclass
class MatrixConfig:
    base: str
    """Recipe every cell trains with (its ``data.corpora`` and ``data.eval_corpora`` are replaced)."""
    output_dir: str
    sources: dict[str, list[CorpusSpec]]
    targets: list[CorpusSpec]
    label_sets: list[str] = field(default_factory=lambda: ["all"])
    overrides: list[str] = field(default_factory=list)
    """``key=value`` overrides of the base recipe, applied to every cell."""


@dataclass(frozen=True)
class Cell:
    """One training run of the matrix: a source set under one label set, tested on the other targets."""

    source: str
    label_set: str
    corpora: list[CorpusSpec]
    targets: list[CorpusSpec]
    output_dir: Path

    def recipe(self, base: RecipeConfig) -> RecipeConfig:
        """The base recipe with this cell's data, label set and output folder."""
        data = dataclasses.replace(base.data, corpora=self.corpora, eval_corpora=self.targets, label_set=self.label_set)
        train = dataclasses.replace(base.train, output_dir=str(self.output_dir))
        return dataclasses.replace(base, data=data, train=train)


def load_matrix(path: str | Path) -> MatrixConfig:
    """Read a matrix file; its ``base`` recipe and corpus roots, when relative, are relative to the file's folder."""
    raw = yaml.safe_load(Path(path).read_text()) or {}
    folder = Path(path).resolve().parent
    if isinstance(raw, dict):
        if isinstance(raw.get("base"), str) and not Path(raw["base"]).expanduser().is_absolute():
            raw["base"] = os.path.normpath(folder / raw["base"])
        sources = raw.get("sources")
        groups = list(sources.values()) if isinstance(sources, dict) else []
        anchor_roots([entry for group in [*groups, raw.get("targets")] if isinstance(group, list) for entry in group], folder)
    try:
        cfg = check_schema(MatrixConfig, raw, "matrix")
    except RecipeError as e:
        raise RecipeError(f"{path}: {e}") from e
    if not cfg.sources or not cfg.targets:
        raise RecipeError(f"{path}: a matrix needs at least one source set and one target")
    return cfg


def cells(cfg: MatrixConfig) -> list[Cell]:
    """The matrix's cells in table order (label set, then source set)."""
    out = []
    for label_set in cfg.label_sets:
        for source_name, sources in cfg.sources.items():
            source_names = {s.name for s in sources}
            out.append(Cell(
                source=source_name,
                label_set=label_set,
                corpora=list(sources),
                targets=[t for t in cfg.targets if t.name not in source_names],
                output_dir=Path(cfg.output_dir) / f"{source_name.replace('+', '_')}__{label_set}",
            ))
    return out


def run_matrix(cfg: MatrixConfig, *, extra_overrides: list[str] | None = None) -> dict[str, Any]:
    """Train every (source set, label set) cell and collect the target results into ``matrix.json``/``.md``."""
    from hf_ser.train import run

    base = load_recipe(cfg.base, [*cfg.overrides, *(extra_overrides or [])])
    out = Path(cfg.output_dir)
    rows = []
    for cell in cells(cfg):
        start = time.perf_counter()
        result = run(cell.recipe(base))
        seconds = time.perf_counter() - start
        metrics = next(iter(result["folds"].values()))
        rows.append(_row(cell.source, cell.label_set, metrics, [t.name for t in cfg.targets], seconds))
    table = {
        "base_recipe": cfg.base,
        "targets": [t.name for t in cfg.targets],
        "selection": "validation speakers of the source corpora only; targets never seen in training",
        "rows": rows,
    }
    write_json(out / "matrix.json", table)
    (out / "matrix.md").write_text(matrix_markdown(table))
    return table


def matrix_markdown(table: dict[str, Any]) -> str:
    targets = table["targets"]
    head = "| source (train) | label set | in-corpus test UA / WA | " + " | ".join(
        f"{t} UA / WA (shared labels) | {t} UA / WA (all labels, unmasked) | {t} ECE (shared labels)" for t in targets
    ) + " | train time |"
    modalities = sorted({r.get("modality", SPEECH) for r in table["rows"]})
    lines = [
        f"Cross-corpus matrix: rows train on the source corpora ({table['selection']}); columns test zero-shot on "
        "each target. UA = unweighted average recall, WA = accuracy, both in %; ECE = expected calibration error "
        f"(15 bins, with the temperature each model fitted on its validation split). Modality: {', '.join(modalities)}.",
        "",
        head,
        "|" + "---|" * (head.count("|") - 1),
    ]
    for r in table["rows"]:
        cells = [r["source"], r["label_set"], _pair(r.get("in_corpus"))]
        for t in targets:
            masked = r["targets"].get(t, {}).get("masked")
            ece = masked.get("ece") if masked else None
            cells += [_pair(masked), _pair(r["targets"].get(t, {}).get("unmasked")), "-" if ece is None else f"{ece:.3f}"]
        cells.append(f"{r['train_seconds']:.0f} s")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _row(source: str, label_set: str, metrics: dict, targets: list[str], seconds: float) -> dict:
    results = metrics["results"]
    tests = [v for k, v in results.items() if k.startswith("test/")]
    row: dict[str, Any] = {
        "source": source,
        "label_set": label_set,
        "labels": metrics["protocol"]["labels"],
        "modality": metrics["protocol"].get("modality", SPEECH),
        "in_corpus": _mean_pair(tests),
        "targets": {},
        "train_seconds": seconds,
    }
    for t in targets:
        if f"cross/{t}" in results:
            row["targets"][t] = {
                "masked": {m: results[f"cross/{t}"].get(m) for m in (*CLASS_METRICS, *CALIBRATION, "n")},
                "unmasked": {m: results[f"cross_unmasked/{t}"].get(m) for m in (*CLASS_METRICS, *CALIBRATION, "n")},
                "shared_labels": results[f"cross/{t}"].get("shared_labels"),
            }
    return row


def _mean_pair(results: list[dict]) -> dict | None:
    if not results:
        return None
    n = sum(r["n"] for r in results)
    return {m: sum(r[m] * r["n"] for r in results) / n for m in (UA, WA)} | {"n": n}


def _pair(m: dict | None) -> str:
    return "-" if not m else f"{100 * m[UA]:.1f} / {100 * m[WA]:.1f}"
