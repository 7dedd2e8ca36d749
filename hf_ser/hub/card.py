"""Model card for a run directory: ``ModelCardData`` metadata plus a Jinja template filled from the run.

Every section is computed here from the run's own files (``metrics.json``, ``recipe.resolved.yaml``,
``run_info.json``, manifests, ``fold_<k>/``, the model's ``config.json``), so the card cannot claim anything
the run did not produce. Rendering fails if the template names a variable that is not filled.

The card is honest about what it describes: hf_ser's synthetic demo corpora are named as synthetic and
borrow no corpus licence; the weights are "the checkpoint at step N of M, selected on validation UA", not a
final model; every figure comes with its 95 % bootstrap interval (from the stored confusion) and its chance
level; targets (hard / soft), label set and protocol are stated. Speaker IDs appear only when the push
publishes the manifests too.
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
from huggingface_hub import EvalResult, ModelCard, ModelCardData

from hf_ser.demo_data import is_demo_root
from hf_ser.hub.paths import dump_yaml, is_local_path, local_path_placeholders, scrub_value
from hf_ser.metrics import bootstrap_ci_from_confusion, chance_scores
from hf_ser.metrics.over_folds import mean_std
from hf_ser.metrics.registry import MACRO_F1, METRICS, UA, WA
from hf_ser.modality import SPEECH, SPEECH_TEXT
from hf_ser.run_dir import METRICS_FILE, RECIPE_FILE, find_model, run_file
from hf_ser.run_dir import load_run as load_run_files

logger = logging.getLogger(__name__)

TEMPLATE_PATH = Path(__file__).parent / "templates" / "model_card.md"
# The card's metrics, accuracy first as Hub cards show it (names and model-index types: the metric registry).
CARD_METRICS = (WA, UA, MACRO_F1)
# Licence strings as corpora write them -> Hub licence identifiers.
_HUB_LICENSES = {
    "cc by-nc-sa 4.0": "cc-by-nc-sa-4.0",
    "cc-by-nc-sa-4.0": "cc-by-nc-sa-4.0",
    "cc by-nc-nd 4.0": "cc-by-nc-nd-4.0",
    "cc-by-nc-nd-4.0": "cc-by-nc-nd-4.0",
    "cc by 4.0": "cc-by-4.0",
    "cc-by-4.0": "cc-by-4.0",
    "cc by-sa 4.0": "cc-by-sa-4.0",
    "cc by-nc 4.0": "cc-by-nc-4.0",
    "odbl 1.0 + dbcl 1.0": "odbl",
    "odbl": "odbl",
    "apache-2.0": "apache-2.0",
    "mit": "mit",
}
# The demo corpora ship inside the hf_ser package; their licence is the package's (pyproject.toml).
_DEMO_LICENSE = "Apache-2.0 (hf_ser's own synthetic demo data)"
_SELECTION_SPLITS = {"valid": "validation", "test": "TEST (optimistic: the published protocol selects on test)"}


@dataclass
class CorpusFacts:
    """What the card says about one training corpus."""

    name: str
    title: str
    license: str
    url: str
    languages: tuple[str, ...]
    redistributable: bool | None
    synthetic: bool = False  # hf_ser's espeak-ng demo copy of the corpus layout, not the corpus


@dataclass
class RunSummary:
    """The facts of a run directory the card and the push need (missing files give empty fields)."""

    run_dir: Path
    model_dir: Path
    model_note: str
    recipe: dict[str, Any]
    metrics: dict[str, Any]
    run_info: dict[str, Any]
    id2label: dict[int, str]
    corpora: list[CorpusFacts]
    folds: dict[str, dict[str, Any]] = field(default_factory=dict)  # fold_<k> -> its metrics.json
    aggregate: dict[str, Any] | None = None
    label_mapping: list[tuple[str, str, str, int]] = field(default_factory=list)  # corpus, orig, label, n
    is_demo: bool = False
    model_metrics: dict[str, Any] = field(default_factory=dict)  # metrics.json next to the pushed model
    synthetic: set[str] = field(default_factory=set)  # corpora (training or evaluation) read from the demo data

    @property
    def protocol(self) -> dict[str, Any]:
        return self.metrics.get("protocol") or {}

    @property
    def modality(self) -> str:
        """``speech`` or ``speech+text`` (``hf_ser.modality``), as the run's ``metrics.json`` records it."""
        return str(self.protocol.get("modality") or SPEECH)


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _corpus_facts(name: str, synthetic: bool = False) -> CorpusFacts:
    if synthetic:
        return CorpusFacts(
            name=name, title=f"hf_ser synthetic demo data in the {name} layout (espeak-ng speech, no real recording)",
            license=_DEMO_LICENSE, url="hf_ser/demo_data/README.md", languages=_corpus_facts(name).languages,
            redistributable=True, synthetic=True,
        )
    # The corpus registry is filled by others and its fields may still be blank: read it defensively.
    try:
        from hf_ser.corpora import CORPORA

        info = CORPORA[name].info
    except Exception:  # unknown name, or a registry that fails to import
        return CorpusFacts(name, name, "", "", (), None)
    return CorpusFacts(
        name=name,
        title=getattr(info, "title", "") or name,
        license=getattr(info, "license", "") or "",
        url=getattr(info, "url", "") or "",
        languages=tuple(getattr(info, "languages", ()) or ()),
        redistributable=getattr(info, "redistributable", None),
    )


def _manifest_rows(run_dir: Path) -> list[dict[str, Any]]:
    return load_run_files(run_dir).manifest_rows


def _synthetic_names(recipe: dict[str, Any]) -> set[str]:
    """Corpora of the recipe read from hf_ser's synthetic demo copies (``hf_ser.demo_data``)."""
    data = recipe.get("data") or {}
    specs = list(data.get("corpora") or []) + list(data.get("eval_corpora") or [])
    return {str(s.get("name")) for s in specs if isinstance(s, dict) and s.get("root") and is_demo_root(s["root"])}


def load_run_summary(run_dir: str | Path) -> RunSummary:
    """Read everything the card needs from a run directory (through ``hf_ser.run_dir``, its only reader)."""
    run = load_run_files(run_dir)
    model_dir, model_note = find_model(run.run_dir)
    names = list(run.protocol.get("corpora") or [])
    if not names:
        names = [c.get("name") for c in (run.recipe.get("data") or {}).get("corpora") or [] if c.get("name")]
    mapping = Counter((str(r.get("corpus", "")), str(r.get("orig_label", "")), str(r.get("label", ""))) for r in run.manifest_rows)
    config = _read_json(model_dir / "config.json")
    synthetic = _synthetic_names(run.recipe)
    # The weights are those of model_dir: its own metrics.json says at which step they were selected.
    model_metrics = _read_json(model_dir.parent / METRICS_FILE) or run.metrics
    return RunSummary(
        run_dir=run.run_dir,
        model_dir=model_dir,
        model_note=model_note,
        recipe=run.recipe,
        metrics=run.metrics,
        run_info=run.run_info,
        id2label={int(k): v for k, v in (config.get("id2label") or {}).items()},
        corpora=[_corpus_facts(n, n in synthetic) for n in names],
        model_metrics=model_metrics,
        folds=run.folds,
        aggregate=run.aggregate,
        label_mapping=sorted((c, o, lab, n) for (c, o, lab), n in mapping.items()),
        is_demo=bool(synthetic),
        synthetic=synthetic,
    )


# -- metadata -------------------------------------------------------------------------------------------------------


def hub_license(corpora: list[CorpusFacts]) -> str:
    """One Hub licence id for the model: the corpora's shared licence, else ``other`` (listed in the card)."""
    ids = {"apache-2.0" if c.synthetic else _HUB_LICENSES.get(c.license.strip().lower()) for c in corpora}
    if len(ids) == 1 and None not in ids:
        return ids.pop()
    return "other"


def _base_model(recipe: dict[str, Any]) -> str | None:
    backbone = str((recipe.get("model") or {}).get("backbone") or "")
    # shape:<name> backbones are random-initialised from a config in code: there is no base model to cite; a
    # local folder is no Hub model either (and its path stays on this machine).
    if not backbone or backbone.startswith("shape:") or is_local_path(backbone):
        return None
    return backbone


def _eval_results(summary: RunSummary) -> list[EvalResult]:
    results = []
    for key, values in sorted((summary.metrics.get("results") or {}).items()):
        split, _, corpus = key.partition("/")
        if split not in ("test", "cross"):
            continue
        # The demo copies are not the corpora: never index a result under the real dataset's name.
        dataset = f"hf_ser-synthetic-demo-{corpus}" if corpus in summary.synthetic else corpus
        for metric in CARD_METRICS:
            value = values.get(metric)
            if not isinstance(value, (int, float)) or math.isnan(value):
                continue
            results.append(
                EvalResult(
                    task_type="audio-classification",
                    task_name="Speech emotion recognition",
                    dataset_type=dataset,
                    dataset_name=f"{dataset} ({'cross-corpus' if split == 'cross' else 'held-out test speakers'})",
                    dataset_split="test",
                    metric_type=METRICS[metric].hub_type,
                    metric_name=METRICS[metric].title,
                    metric_value=round(float(value), 4),
                )
            )
    return results


def build_card_data(summary: RunSummary, repo_id: str) -> ModelCardData:
    """``ModelCardData`` (YAML front matter) for the run."""
    languages = sorted({lang for c in summary.corpora for lang in c.languages})
    if not languages:
        languages = sorted({r.get("language") for r in _manifest_rows(summary.run_dir) if r.get("language")})
    model_name = repo_id.split("/")[-1]
    evals = _eval_results(summary)
    return ModelCardData(
        model_name=model_name,
        base_model=_base_model(summary.recipe),
        datasets=[c.name for c in summary.corpora if not c.synthetic] or None,
        language=languages or None,
        license=hub_license(summary.corpora),
        library_name="transformers",
        pipeline_tag="audio-classification",
        tags=["audio-classification", "speech-emotion-recognition", "hf_ser"]
        + (["synthetic-demo"] if summary.is_demo else [])
        + (["multimodal", "speech-and-text"] if summary.modality == SPEECH_TEXT else []),
        metrics=sorted({e.metric_type for e in evals}) or None,
        eval_results=evals or None,
    )


# -- sections ---------------------------------------------------------------------------------------------------------


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _with_ci(r: dict[str, Any], metric: str) -> str:
    value = r.get(metric)
    if not isinstance(value, (int, float)):
        return "-"
    confusion = r.get("confusion")
    if not confusion:
        return f"{_fmt(value)} (no interval: confusion not recorded)"
    low, high = bootstrap_ci_from_confusion(confusion, metric=metric)
    return f"{_fmt(value)} [{low:.4f}, {high:.4f}]" if not math.isnan(low) else _fmt(value)


def _chance(r: dict[str, Any]) -> str:
    if not r.get("confusion"):
        return "-"
    chance = chance_scores(r["confusion"])
    return " / ".join(f"{chance[m]:.4f}" for m in CARD_METRICS)


def _results_table(rows: list[tuple[str, dict[str, Any]]], first: str) -> str:
    header = " | ".join(f"{METRICS[m].label} [95% CI]" for m in CARD_METRICS)
    chance = " / ".join(METRICS[m].label for m in CARD_METRICS)
    lines = [f"| {first} | {header} | n | chance {chance} |", "|---" * (len(CARD_METRICS) + 3) + "|"]
    for name, r in rows:
        cells = " | ".join(_with_ci(r, m) for m in CARD_METRICS)
        lines.append(f"| {name} | {cells} | {r.get('n', '-')} | {_chance(r)} |")
    return "\n".join(lines)


_CI_NOTE = (
    "Intervals: 95 % percentile bootstrap over the clips of each row (1000 resamples, seed 0, from the stored "
    "confusion matrix). Chance: UA and macro-F1 of guessing each label with equal probability, WA of always "
    "answering the most frequent label of that test set."
)


def _corpora_section(s: RunSummary) -> str:
    if not s.corpora:
        return "The run's files name no training corpus."
    lines = ["| Corpus | Languages | License | Source |", "|---|---|---|---|"]
    for c in s.corpora:
        lic = c.license or "not recorded in hf_ser: check the corpus's own terms before reuse"
        lines.append(f"| {c.title} (`{c.name}`) | {', '.join(c.languages) or '-'} | {lic} | {c.url or '-'} |")
    if any(c.synthetic for c in s.corpora):
        lines.append(
            "\nThe synthetic demo data is not the corpus whose file layout it copies: it holds no recording of that "
            "corpus, so none of that corpus's licence or results apply to it."
        )
    hub_lic = hub_license(s.corpora)
    if hub_lic == "other":
        lines.append(
            "\nThe corpora do not share one known licence, so the card's licence is `other`: the weights derive "
            "from data under each licence above and inherit their restrictions (e.g. non-commercial terms)."
        )
    else:
        lines.append(f"\nThe weights derive from data under `{hub_lic}`, which is the card's licence.")
    return "\n".join(lines)


def _targets(proto: dict[str, Any]) -> str:
    targets = proto.get("targets")
    if targets == "soft":
        voted = proto.get("targets_with_votes")
        return ("soft: each training clip's target is its annotators' vote distribution"
                + (f" ({voted} training clips had votes; the others their single label)" if voted is not None else ""))
    if targets == "hard":
        return "hard: one label per training clip"
    return f"`{targets}`" if targets else "not recorded"


def _labels_section(s: RunSummary) -> str:
    proto = s.protocol
    label_set = proto.get("label_set") or (s.recipe.get("data") or {}).get("label_set") or "all"
    lines = [f"Label set: `{label_set}` ({len(s.id2label)} classes). Training targets: {_targets(proto)}.", ""]
    lines += ["Model outputs (`config.id2label`):", "", "| id | label |", "|---|---|"]
    lines += [f"| {i} | {lab} |" for i, lab in sorted(s.id2label.items())]
    if s.label_mapping and any(o for _, o, _, _ in s.label_mapping):
        lines += ["", "Corpus labels mapped to these outputs (clips per mapping, over all splits and folds):", ""]
        lines += ["| corpus | corpus label | model label | clips |", "|---|---|---|---|"]
        lines += [f"| {c} | {o or '-'} | {lab} | {n} |" for c, o, lab, n in s.label_mapping]
    elif s.label_mapping:
        lines += ["", "Clips per corpus and label in the run's manifests (over all splits and folds):", ""]
        lines += ["| corpus | model label | clips |", "|---|---|---|"]
        lines += [f"| {c} | {lab} | {n} |" for c, _, lab, n in s.label_mapping]
    custom = [c for c in (s.recipe.get("data") or {}).get("corpora") or [] if c.get("label_map")]
    for c in custom:
        lines.append(f"\nCustom label map for `{c.get('name')}`: `{json.dumps(c['label_map'], sort_keys=True)}`")
    return "\n".join(lines)


def _weights(s: RunSummary) -> str:
    """What the pushed weights are: the checkpoint of a step, and on what it was selected."""
    m = s.model_metrics
    best, final = m.get("best_step"), m.get("final_step")
    of = f" of {final}" if final is not None else " (total steps not recorded)"
    data, train = s.recipe.get("data") or {}, s.recipe.get("train") or {}
    split = data.get("selection_split", "valid")
    key = str(train.get("select_metric", UA))
    metric = METRICS[key].label if key in METRICS else key
    if best is None:
        return s.model_note
    if split == "none":
        return f"the checkpoint at step {best}{of}, the end of training (no model selection)"
    return f"the checkpoint at step {best}{of}, selected on {_SELECTION_SPLITS.get(split, split)} {metric} ({s.model_note})"


def _speakers(p: dict[str, Any], side: str, include_ids: bool) -> str | None:
    ids = p.get(f"{side}_speakers")
    if not ids:
        return None
    return f"{len(ids)} ({', '.join(map(str, ids))})" if include_ids else str(len(ids))


def _protocol_section(s: RunSummary, include_speakers: bool = False) -> str:
    p = s.protocol
    name = p.get("protocol") or (s.recipe.get("data") or {}).get("protocol") or "unknown"
    si = p.get("speaker_independent")
    si_text = {True: "**speaker-independent** (no speaker appears in both training and test data)",
               False: "**speaker-dependent** (test speakers also appear in training data; scores are optimistic)",
               None: "of unrecorded speaker independence"}[si if isinstance(si, bool) else None]
    if p.get("speakers"):  # what the split really shares (hf_ser.splits.speaker_sharing), when recorded
        si_text = f"**{p['speakers']}**"
    lines = [f"Protocol `{name}`, {si_text}.", f"Modality: **{s.modality}**." + _modality_note(s.modality)]
    if p.get("fold") is not None:
        lines.append(f"Fold: {p['fold']}.")
    if s.folds:
        lines.append(f"Cross-validation over {len(s.folds)} folds ({', '.join(s.folds)}).")
    if p.get("protocol_source"):
        lines.append(f"Protocol source: {p['protocol_source']}.")
    sides = {side: _speakers(p, side, include_speakers) for side in ("train", "valid", "test")}
    if any(sides.values()):
        named = ", ".join(f"{n} {side}" for side, n in sides.items() if n)
        lines.append(f"Speakers: {named}" + ("." if include_speakers else " (their IDs are not published)."))
    lines.append(f"Weights in this repository: {_weights(s)}.")
    return "\n".join(lines)


def _modality_note(modality: str) -> str:
    if modality != SPEECH_TEXT:
        return " Compare these figures only with speech-only figures."
    return (
        " The model reads each clip's transcript with its speech; the figures below used the corpus transcripts. "
        "Without a transcript it predicts from speech alone (trained for it by modality dropout): pass one with "
        "`hf_ser.load(model).predict(path, text=...)` or `hf-ser predict --transcripts FILE.csv` (the "
        "`audio-classification` pipeline gives it none). Compare these figures only with speech+text figures."
    )


def _mean_std(values: list[float]) -> str:
    if len(values) < 2:
        return _fmt(values[0]) if values else "-"
    from scipy.stats import t

    mean, std = mean_std(values)
    half = t.ppf(0.975, len(values) - 1) * std / math.sqrt(len(values))
    return f"{mean:.4f} ± {std:.4f} [{mean - half:.4f}, {mean + half:.4f}]"


def _results_section(s: RunSummary) -> str:
    results = s.metrics.get("results") or {}
    own = [(k, v) for k, v in sorted(results.items()) if not k.startswith("cross")]
    parts = [_CI_NOTE]
    if own:
        parts.append(_results_table(own, "split/corpus"))
    if s.folds:
        keys = sorted({k for m in s.folds.values() for k in (m.get("results") or {}) if k.startswith("test/")})
        for key in keys:
            rows = [(fold, (m.get("results") or {}).get(key, {})) for fold, m in s.folds.items()]
            parts.append(f"Per fold, `{key}`:\n\n" + _results_table(rows, "fold"))
            vals = {m: [r[m] for _, r in rows if isinstance(r.get(m), (int, float))] for m in CARD_METRICS}
            parts.append(
                f"Mean ± std over folds (sample std) [95 % t-interval of the mean], `{key}`: "
                + "; ".join(f"{METRICS[m].title} {_mean_std(v)}" for m, v in vals.items())
            )
        if s.aggregate:
            parts.append("The run's own aggregate (`aggregate.json`) is uploaded under `eval/`.")
    pngs = sorted(p.name for p in s.run_dir.glob("confusion_*.png"))
    if pngs:
        parts.append("Confusion matrices: " + ", ".join(f"[{n}](eval/{n})" for n in pngs) + ".")
    reliability = sorted(p.name for p in s.run_dir.glob("reliability_*.png"))
    if reliability:
        parts.append("Calibration (reliability diagram and risk-coverage curve; ECE and Brier in `eval/metrics.json`): "
                     + ", ".join(f"[{n}](eval/{n})" for n in reliability) + ".")
    if len(parts) == 1:
        return "The run recorded no evaluation results."
    return "WA = accuracy, UA = unweighted average recall (mean of per-class recalls).\n\n" + "\n\n".join(parts)


def _cross_section(s: RunSummary) -> str:
    results = s.metrics.get("results") or {}
    cross = [(k, v) for k, v in sorted(results.items()) if k.startswith("cross")]
    if not cross:
        return "This run evaluated no other corpus; performance on unseen corpora is unknown and usually much lower."
    return (
        "Trained as above, tested on whole other corpora (every speaker unseen). `cross/<corpus>` scores only the "
        "labels the corpus shares with the model (other outputs masked); `cross_unmasked/<corpus>` allows every "
        "model output.\n\n" + _results_table(cross, "split/corpus") + "\n\n" + _CI_NOTE
        + "".join(f"\n\n`{c}` here is hf_ser's synthetic demo copy (espeak-ng speech), not the corpus."
                  for c in sorted(s.synthetic) if any(k.endswith(f"/{c}") for k, _ in cross))
    )


def _limitations_section(s: RunSummary) -> str:
    lines = []
    if s.is_demo:
        lines.append(
            "> **Warning: trained on hf_ser's built-in synthetic demo data** (synthesised speech, not a real "
            "emotion corpus). The scores show that the pipeline runs end to end; the model recognises no real "
            "emotion and must not be used on real speech."
        )
    labels = ", ".join(s.id2label.values()) or "the labels above"
    langs = sorted({lang for c in s.corpora for lang in c.languages})
    lines.append(
        f"Intended use: research on speech emotion recognition; the model predicts one of {labels} per clip. "
        "Acted corpora carry exaggerated, prototypical emotions recorded in studio conditions: expect lower "
        "accuracy on spontaneous speech, other languages"
        + (f" (trained on: {', '.join(langs)})" if langs else "")
        + ", other microphones and noise."
    )
    lines.append(
        "Do not use it to make decisions about people (hiring, health, policing, surveillance): emotion is not "
        "reliably inferable from voice alone and error rates differ between speakers and groups."
    )
    if any(not c.synthetic and c.license and "nc" in c.license.lower().replace("-", " ").split() for c in s.corpora):
        lines.append("Some training data is licensed for non-commercial use only; so is use of these weights.")
    return "\n\n".join(lines)


def _versions_section(s: RunSummary) -> str:
    rows = {k: v for k, v in s.run_info.items() if isinstance(v, (str, int, float, bool))}
    if not rows:
        import huggingface_hub
        import transformers

        rows = {"transformers": transformers.__version__, "huggingface_hub": huggingface_hub.__version__}
    return "\n".join(f"- {k}: {v}" for k, v in sorted(rows.items()))


def _summary(s: RunSummary) -> str:
    real = [c.title for c in s.corpora if not c.synthetic]
    synthetic = [c.name for c in s.corpora if c.synthetic]
    data = ", ".join(real)
    if synthetic:
        data = (data + " and " if data else "") + (
            f"hf_ser's synthetic demo data (espeak-ng speech in the {', '.join(synthetic)} file layout; no real recording)"
        )
    backbone = str((s.recipe.get("model") or {}).get("backbone") or "unknown")
    source = (f"from `{_base_model(s.recipe)}`" if _base_model(s.recipe) else
              "from a local backbone folder" if is_local_path(backbone) else
              f"from a randomly initialised `{backbone}` backbone")
    return (f"Speech emotion recognition model ({s.modality}) fine-tuned with hf_ser on {data or 'unrecorded corpora'}, {source}. "
            f"The weights are {_weights(s)}.")


def render_model_card(
    run_dir: str | Path, repo_id: str, *, template_path: str | Path = TEMPLATE_PATH, include_manifests: bool = False
) -> ModelCard:
    """Render the model card of a run.

    Args:
        run_dir: the run directory (see docs/architecture.md, "Run directory").
        repo_id: the repository the card is for (``org/name``), used in the usage snippet.
        template_path: Jinja template; every variable it names must be filled here.
        include_manifests: the push publishes the manifests, so the card may name the speakers.

    Raises:
        ValueError: the template names a variable this function does not fill.
    """
    summary = load_run_summary(run_dir)
    card_data = build_card_data(summary, repo_id)
    recipe_text = run_file(Path(run_dir), RECIPE_FILE)
    sections = {
        "model_title": repo_id.split("/")[-1],
        "repo_id": repo_id,
        "summary": _summary(summary),
        "corpora_section": _corpora_section(summary),
        "labels_section": _labels_section(summary),
        "protocol_section": _protocol_section(summary, include_speakers=include_manifests),
        "results_section": _results_section(summary),
        "cross_section": _cross_section(summary),
        "limitations_section": _limitations_section(summary),
        "recipe_yaml": (
            dump_yaml(scrub_value(summary.recipe, local_path_placeholders(run_dir, summary.recipe))).strip()
            if recipe_text.is_file()
            else "# no recipe recorded"
        ),
        "manifests_note": (
            "the manifests of every split (one line per clip) as `manifests/`" if include_manifests else
            "the per-clip manifests and speaker lists are not published (metrics are aggregates)"
        ),
        "versions_section": _versions_section(summary),
    }
    template_str = Path(template_path).read_text(encoding="utf-8")
    wanted = jinja2.meta.find_undeclared_variables(jinja2.Environment().parse(template_str))
    provided = set(sections) | set(card_data.to_dict()) | {"card_data"}
    missing = wanted - provided
    if missing:
        raise ValueError(f"model card template {template_path} uses unfilled variables: {sorted(missing)}")
    empty = [k for k, v in sections.items() if not str(v).strip()]
    if empty:
        raise ValueError(f"model card sections came out empty: {empty}")
    return ModelCard.from_template(card_data, template_path=str(template_path), **sections)
