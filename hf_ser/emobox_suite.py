"""One table to set beside EmoBox's leaderboard (the library half of ``hf-ser benchmark emobox``).

For every corpus EmoBox covers and hf_ser loads (``hf_ser.emobox``), when the user has it on disk: train and test
with EmoBox's own folds (the ``<corpus>_emobox`` protocols, clip for clip) and EmoBox's label classes (IEMOCAP:
excitement scored as happiness), then write one table in EmoBox's layout: WA, UA, micro-F1 and macro-F1 per
corpus as the mean over folds, with each row's speaker dependence. Corpora not on disk are listed, not fatal.

Outputs in ``--out``: ``<corpus>/`` (each corpus's run directory), ``emobox_folds.json`` (every fold's metrics)
and ``emobox_table.md`` (the table, also printed).

``micro-F1``: for single-label classification micro-averaged F1 equals accuracy, so it is WA; the column is
kept because EmoBox's table has it. EmoBox's own numbers come from frozen upstream features with a small head
(docs/corpora.md); compare like with like.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from hf_ser import emobox
from hf_ser.metrics.registry import MACRO_F1, UA, WA
from hf_ser.metrics.registry import METRICS as METRIC_REGISTRY
from hf_ser.run_dir import load_run

if TYPE_CHECKING:
    from hf_ser.config import RecipeConfig

logger = logging.getLogger("hf_ser.emobox_suite")
DEFAULT_RECIPE = Path(__file__).resolve().parent.parent / "recipes" / "emobox" / "base.yaml"
# EmoBox's columns: its micro-F1 over single-label clips is the accuracy (WA), reported under its own name.
MICRO_F1 = "micro_f1"
METRICS = (WA, UA, MICRO_F1, MACRO_F1)
HEADERS = {**{m: METRIC_REGISTRY[m].label for m in (WA, UA, MACRO_F1)}, MICRO_F1: "micro-F1"}


def read_roots(path: str | Path) -> dict[str, str]:
    """``roots.yaml``: a mapping ``corpus name -> corpus root``.

    Raises:
        ValueError: not a mapping, or a name hf_ser has no EmoBox lists for (the message lists them).
    """
    raw = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping 'corpus: root', got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(emobox.index()))
    if unknown:
        raise ValueError(f"{path}: no EmoBox lists for {unknown}; known: {sorted(emobox.index())}")
    return {str(k): str(v) for k, v in raw.items()}


def run_emobox(
    model_or_recipe: str,
    roots: dict[str, str],
    out: str | Path,
    *,
    partial: bool = False,
    folds: str = "all",
    overrides: list[str] | None = None,
) -> dict[str, Any]:
    """Run every corpus of ``roots`` on disk with EmoBox's folds and write the table and per-fold JSON.

    Args:
        model_or_recipe: a recipe YAML, or a backbone (Hub id, local folder, ``shape:<name>``) trained with
            ``recipes/emobox/base.yaml``.
        roots: corpus name -> root (from ``read_roots``).
        out: output folder.
        partial: run on incomplete copies (``strict=False``: listed clips that are absent are dropped, and a
            fold left without test or train clips is omitted); the table then says how many listed clips ran.
        folds: ``all`` or fold positions (``"0"``, ``"0,2"``) of each corpus's folds, for quick checks.
        overrides: extra recipe ``key=value`` overrides (e.g. ``train.max_steps=2``); the keys the benchmark sets
            per corpus (``data.corpora``, ``label_set``, ``protocol``, ``protocol_options``, ``eval_corpora``,
            ``train.output_dir``, ``folds``) are replaced after them. ``overwrite=true`` lets a rerun replace
            ``<out>/<corpus>/``, ``resume=true`` continues it; otherwise an occupied folder is refused.

    Returns:
        ``{"rows": [...], "missing": {corpus: why}, "failed": {corpus: error}}`` as written to
        ``emobox_folds.json``; a corpus whose copy does not fit (layout, git-lfs pointers, listed clips absent
        without ``partial``) is reported under ``failed`` and the others still run.
    """
    from hf_ser.audio import GitLfsPointerError
    from hf_ser.config import load_recipe
    from hf_ser.corpora import CorpusLayoutError
    from hf_ser.splits import MissingSpeakersError
    from hf_ser.train import run

    is_recipe = model_or_recipe.endswith((".yaml", ".yml"))
    recipe = model_or_recipe if is_recipe else str(DEFAULT_RECIPE)
    model = [] if is_recipe else [f"model.backbone={model_or_recipe}"]
    # The base recipe's data section is replaced per corpus, so it is checked whole per corpus by ``run``.
    base = load_recipe(recipe, [*model, *(overrides or [])], validate=False)
    out = Path(out)
    rows, missing, failed = [], {}, {}
    for corpus, info in sorted(emobox.index().items()):
        root = roots.get(corpus)
        if root is None:
            missing[corpus] = "not in roots.yaml"
            continue
        if not Path(root).expanduser().is_dir():
            missing[corpus] = f"root {root} is not a folder"
            continue
        run_dir = out / corpus
        try:
            run(_corpus_recipe(base, corpus, info, root, run_dir, partial=partial, folds=folds))
        except (CorpusLayoutError, GitLfsPointerError, MissingSpeakersError) as e:
            # The user's copy does not fit (layout, LFS pointers, clips EmoBox lists but the copy lacks): report
            # it in the table and go on with the other corpora.
            logger.error("%s: %s", corpus, e)
            failed[corpus] = f"{type(e).__name__}: {e}"
            continue
        rows.append(_row(corpus, info, run_dir))
    table = {
        "source": f"EmoBox folds: {next(iter(emobox.index().values())).source}"
        f" @{next(iter(emobox.index().values())).commit}",
        "model_or_recipe": model_or_recipe,
        "partial": partial,
        "rows": rows,
        "missing": missing,
        "failed": failed,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "emobox_folds.json").write_text(json.dumps(table, indent=2, sort_keys=True) + "\n")
    (out / "emobox_table.md").write_text(table_markdown(table))
    return table


def _corpus_recipe(
    base: RecipeConfig, corpus: str, info: emobox.EmoBoxCorpus, root: str, run_dir: Path, *, partial: bool, folds: str
) -> RecipeConfig:
    """``base`` trained on one corpus with EmoBox's folds and label classes, into ``run_dir``."""
    from hf_ser.config import CorpusSpec

    data = dataclasses.replace(
        base.data,
        corpora=[CorpusSpec(name=corpus, root=root, label_map=dict(info.label_map))],
        label_set=list(info.label_set),
        protocol=f"{corpus}_emobox",
        protocol_options={"strict": not partial},
        eval_corpora=[],
    )
    train = dataclasses.replace(base.train, output_dir=str(run_dir))
    return dataclasses.replace(base, data=data, train=train, folds=folds)


def _row(corpus: str, info: emobox.EmoBoxCorpus, run_dir: Path) -> dict[str, Any]:
    run = load_run(run_dir)
    # One-fold protocols write metrics.json in the run directory itself, several folds one per fold_<k>/.
    named = sorted(run.folds.items(), key=lambda kv: int(kv[0].split("_")[1])) or [(run_dir.name, run.metrics)]
    folds = []
    for name, metrics in named:
        result = metrics["results"][f"test/{corpus}"]
        protocol = metrics.get("protocol", {})
        folds.append({
            "fold": protocol.get("fold", name),
            "n": result.get("n"),
            **{m: result.get(WA if m == MICRO_F1 else m) for m in METRICS},
        })
    means = {
        m: (sum(f[m] for f in folds) / len(folds) if all(f[m] is not None for f in folds) else None) for m in METRICS
    }
    return {
        "corpus": corpus,
        "speaker_dependent": info.speaker_dependent,
        "folds_run": len(folds),
        "folds_published": info.num_folds,
        "test_clips": sum(f["n"] or 0 for f in folds),
        "mean": means,
        "folds": folds,
    }


def table_markdown(table: dict[str, Any]) -> str:
    """EmoBox's layout: one row per corpus, metrics in % as the mean over folds."""
    lines = [
        f"# EmoBox benchmark: {table['model_or_recipe']}",
        "",
        f"{table['source']}. Metrics in %, mean over folds; micro-F1 = WA for single-label classification."
        + (" PARTIAL: incomplete corpus copies, folds differ from EmoBox's." if table["partial"] else ""),
        "",
        "| corpus | folds | speakers | test clips | " + " | ".join(HEADERS[m] for m in METRICS) + " |",
        "|---|---|---|---|" + "---|" * len(METRICS),
    ]
    for row in table["rows"]:
        folds = f"{row['folds_run']} of {row['folds_published']}"
        speakers = "speaker-DEPENDENT" if row["speaker_dependent"] else "speaker-independent"
        values = " | ".join("—" if row["mean"][m] is None else f"{100 * row['mean'][m]:.2f}" for m in METRICS)
        lines.append(f"| {row['corpus']} | {folds} | {speakers} | {row['test_clips']} | {values} |")
    for corpus, why in sorted(table.get("failed", {}).items()):
        lines += ["", f"FAILED {corpus}: {why}"]
    if table["missing"]:
        lines += ["", "Not run (not on disk): " + ", ".join(f"{c} ({why})" for c, why in sorted(table["missing"].items()))]
    return "\n".join(lines) + "\n"
