"""Score a saved audio-classification model on a canonical-schema dataset: ``evaluate_model``.

One call gives the masked and unmasked figures (see ``hf_ser.evaluation.harmonise``), bootstrap CIs,
per-language / gender / speaker breakdowns and the list of clips left out, each with its reason.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import datasets
import numpy as np
import torch

from hf_ser.corpora import NO_AGREEMENT, speaker_key
from hf_ser.evaluation.harmonise import LabelPlan, plan_labels
from hf_ser.evaluation.inference import infer_logits
from hf_ser.evaluation.scoring import score_logits
from hf_ser.metrics import BOOTSTRAP_METRICS, bootstrap_ci
from hf_ser.metrics.registry import UA, WA
from hf_ser.metrics.scores import classification_scores
from hf_ser.modality import SPEECH, SPEECH_TEXT

logger = logging.getLogger(__name__)

BREAKDOWN_COLUMNS = ("language", "gender", "speaker")


@dataclass
class EvalResult:
    """Everything one evaluation produced.

    Attributes:
        corpora: corpus names found in the dataset's ``corpus`` column.
        plan: how model classes met target labels.
        label_map: the renaming applied to both sides (may be empty).
        utt_ids / rel_paths / corpus_of / speakers: per scored clip (``corpus/speaker`` keys in ``speakers``).
        references: per scored clip, the (mapped) target label.
        predictions_masked / predictions_unmasked: per scored clip, the predicted label.
        logits: ``(n, num_model_classes)`` raw outputs of the scored clips.
        masked / unmasked: ``classification_metrics`` dicts plus ``ci`` ``{metric: [low, high]}``.
        breakdowns: ``{column: {value: {"wa", "ua", "n"}}}`` on the masked predictions.
        left_out: ``[{"utt_id", "corpus", "rel_path", "label", "reason"}]``.
        ci_settings: ``{"n_boot", "seed", "alpha"}``.
    """

    corpora: list[str]
    plan: LabelPlan
    label_map: dict[str, str | None]
    utt_ids: list[str]
    rel_paths: list[str]
    corpus_of: list[str]
    speakers: list[str]
    references: list[str]
    predictions_masked: list[str]
    predictions_unmasked: list[str]
    logits: np.ndarray
    masked: dict[str, Any]
    unmasked: dict[str, Any]
    breakdowns: dict[str, dict[str, dict[str, Any]]]
    left_out: list[dict[str, str]] = field(default_factory=list)
    ci_settings: dict[str, Any] = field(default_factory=dict)
    reference: str = "label"  # the dataset column scored against: "label" or "perceived_label"
    modality: str = "speech"  # what the model read: "speech", or "speech+text" with the clips' transcripts

    @property
    def left_out_counts(self) -> dict[str, int]:
        """Number of left-out clips per reason (the part of the reason before any parenthesis)."""
        return dict(Counter(item["reason"].split(" (")[0] for item in self.left_out))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no per-clip predictions; see ``predictions``)."""
        return {
            "corpora": self.corpora,
            "reference": self.reference,
            "modality": self.modality,
            "model_labels": list(self.plan.model_labels),
            "eval_labels": list(self.plan.eval_labels),
            "target_labels": list(self.plan.target_labels),
            "absent_labels": list(self.plan.absent_labels),
            "label_map": self.label_map,
            "masked": self.masked,
            "unmasked": self.unmasked,
            "breakdowns": self.breakdowns,
            "ci_settings": self.ci_settings,
            "n_scored": len(self.utt_ids),
            "n_left_out": len(self.left_out),
            "left_out_counts": self.left_out_counts,
            "left_out": self.left_out,
        }

    def predictions(self) -> list[dict[str, str]]:
        """One record per scored clip: utt_id, corpus, rel_path, speaker, reference and both predictions."""
        return [
            {
                "utt_id": u,
                "corpus": c,
                "rel_path": p,
                "speaker": s,
                "reference": r,
                "prediction_masked": pm,
                "prediction_unmasked": pu,
            }
            for u, c, p, s, r, pm, pu in zip(
                self.utt_ids,
                self.corpus_of,
                self.rel_paths,
                self.speakers,
                self.references,
                self.predictions_masked,
                self.predictions_unmasked,
            )
        ]


def _ci(refs: np.ndarray, preds: np.ndarray, labels: Sequence[str], n_boot: int, seed: int, alpha: float) -> dict:
    ci = {}
    for m in BOOTSTRAP_METRICS:
        low, high = bootstrap_ci(refs, preds, labels, metric=m, n_boot=n_boot, seed=seed, alpha=alpha)
        # NaN is not JSON: an interval that cannot be computed (n_boot=0, undefined metric) is None.
        ci[m] = None if np.isnan(low) else [low, high]
    return ci


def _breakdowns(
    groups: Mapping[str, Sequence[str]], refs: np.ndarray, preds: np.ndarray, labels: Sequence[str]
) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for column, values in groups.items():
        values_arr = np.asarray(values, dtype=object)
        per: dict[str, dict[str, Any]] = {}
        for value in sorted(set(values)):
            sel = values_arr == value
            # numpy-only scores here: a speaker breakdown has ~100 groups and evaluate's per-call overhead adds up.
            s = classification_scores(refs[sel], preds[sel], labels)
            per[str(value) or "(unknown)"] = {WA: s[WA], UA: s[UA], "n": s["n"]}
        out[column] = per
    return out


def evaluate_model(
    model: torch.nn.Module,
    feature_extractor,
    dataset: datasets.Dataset,
    *,
    label_map: Mapping[str, str | None] | None = None,
    window_s: float | None = None,
    batch_size: int = 8,
    device: str = "cpu",
    progress: bool = True,
    n_boot: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
    transcripts: bool = True,
) -> EvalResult:
    """Evaluate an audio-classification model on a canonical-schema dataset.

    A speech + text model (``config.text_config``) reads each clip's transcript (the ``text`` column; clips
    without one use its "missing text" embedding); ``transcripts=False`` scores it from speech alone. Calibration
    figures use the temperature the model carries (``config.calibration``; 1.0 without one).

    Args:
        model: a model with ``config.id2label`` (e.g. ``AutoModelForAudioClassification.from_pretrained(dir)``).
        feature_extractor: the model's saved feature extractor.
        dataset: rows in the canonical schema (``path``, ``label``, ``speaker``, ...), one or more corpora.
        label_map: renaming applied to model labels and target labels (see ``hf_ser.evaluation.harmonise``).
        window_s: window length (``hf_ser.evaluation.inference``); ``None``: the model's own.
        batch_size: windows per forward pass.
        device: torch device string ("cpu", "cuda").
        progress: show a progress bar.
        n_boot: bootstrap resamples for the CIs (0 disables them).
        seed: bootstrap seed.
        alpha: 0.05 gives 95 % intervals.
        transcripts: a speech + text model reads the clips' transcripts (False: speech only).

    Returns:
        An ``EvalResult``.

    Raises:
        ValueError: the model has no usable ``id2label``, or no clip could be scored.
    """
    id2label = getattr(model.config, "id2label", None) or {}
    model_labels = [str(id2label[i]) for i in sorted(int(k) for k in id2label)]
    if not model_labels or len(model_labels) != model.config.num_labels:
        raise ValueError(f"model config has no usable id2label ({id2label}); cannot name its classes")
    label_map = dict(label_map or {})
    cols = {name: dataset[name] for name in ("utt_id", "corpus", "path", "rel_path", "label", "speaker")}
    _, _, reasons = plan_labels(model_labels, cols["label"], label_map)
    left_out = []
    kept = []
    for i, reason in enumerate(reasons):
        if reason is None:
            kept.append(i)
        else:
            left_out.append(_left_out_item(cols, i, reason))
    durations = dataset["duration_s"] if "duration_s" in dataset.column_names else None
    text_ids, modality = _transcript_ids(model, dataset, kept, transcripts)
    logits, failures = infer_logits(
        model,
        feature_extractor,
        [cols["path"][i] for i in kept],
        None if durations is None else [durations[i] for i in kept],
        window_s=window_s,
        batch_size=batch_size,
        device=device,
        progress=progress,
        text_ids=text_ids,
    )
    for pos, reason in sorted(failures.items()):
        left_out.append(_left_out_item(cols, kept[pos], reason))
    ok = [pos for pos in range(len(kept)) if pos not in failures]
    rows = [kept[pos] for pos in ok]
    if not rows:
        raise ValueError(
            f"no clip could be scored: {len(left_out)} left out ({dict(Counter(x['reason'] for x in left_out))})"
        )
    logits = logits[ok]
    temperature = float((getattr(model.config, "calibration", None) or {}).get("temperature", 1.0))
    result = _result(model_labels, label_map, cols, rows, logits, left_out, dataset, n_boot, seed, alpha, temperature)
    result.modality = modality
    return result


def _transcript_ids(
    model: torch.nn.Module, dataset: datasets.Dataset, kept: Sequence[int], transcripts: bool
) -> tuple[list[list[int]] | None, str]:
    """Token ids of the kept clips' transcripts for a speech + text model (its own saved tokenizer), and the
    modality the evaluation uses."""
    if getattr(model.config, "text_config", None) is None:
        return None, SPEECH
    if not transcripts or "text" not in dataset.column_names:
        return [[] for _ in kept], SPEECH
    from transformers import AutoTokenizer

    from hf_ser.models.text_encoder import tokenize

    tokenizer = AutoTokenizer.from_pretrained(model.config._name_or_path)
    texts = dataset["text"]
    return tokenize(tokenizer, [texts[i] for i in kept], model.config.text_max_tokens), SPEECH_TEXT


def rescore(result: EvalResult, dataset: datasets.Dataset, column: str = "perceived_label") -> EvalResult | None:
    """The clips ``result`` scored, scored again against another label column (no second inference).

    CREMA-D's ``label`` is the acted emotion and its ``perceived_label`` the crowd's majority (see
    ``hf_ser.corpora._votes``): this gives the perceived figure from the same predictions, through the same
    scoring path. Clips without a perceived label, or whose raters tied (``no_agreement``), are left out with
    that reason, on top of the clips the first scoring left out. Returns ``None`` when the column is missing or
    no clip has a usable label.
    """
    if column not in dataset.column_names:
        return None
    cols = {name: dataset[name] for name in ("utt_id", "corpus", "path", "rel_path", "speaker")}
    cols["label"] = [str(v) for v in dataset[column]]
    if not any(lab and lab != NO_AGREEMENT for lab in cols["label"]):
        return None
    index = {(c, u): i for i, (c, u) in enumerate(zip(cols["corpus"], cols["utt_id"]))}
    _, _, reasons = plan_labels(result.plan.model_labels, cols["label"], result.label_map)
    left_out = list(result.left_out)
    rows, positions = [], []
    for pos, key in enumerate(zip(result.corpus_of, result.utt_ids)):
        i = index[key]
        label = cols["label"][i]
        if not label:
            left_out.append(_left_out_item(cols, i, f"no {column}"))
        elif label == NO_AGREEMENT:
            left_out.append(_left_out_item(cols, i, "no perceived majority (raters tied)"))
        elif reasons[i] is not None:
            left_out.append(_left_out_item(cols, i, reasons[i]))
        else:
            rows.append(i)
            positions.append(pos)
    if not rows:
        return None
    settings = result.ci_settings
    rescored = _result(
        list(result.plan.model_labels), result.label_map, cols, rows, result.logits[positions], left_out, dataset,
        settings.get("n_boot", 1000), settings.get("seed", 0), settings.get("alpha", 0.05),
        result.unmasked.get("temperature", 1.0),
    )
    rescored.reference, rescored.modality = column, result.modality
    return rescored


def _left_out_item(cols: Mapping[str, Sequence[str]], i: int, reason: str) -> dict[str, str]:
    return {
        "utt_id": cols["utt_id"][i],
        "corpus": cols["corpus"][i],
        "rel_path": cols["rel_path"][i],
        "label": cols["label"][i],
        "reason": reason,
    }


def _result(
    model_labels, label_map, cols, rows, logits, left_out, dataset, n_boot, seed, alpha, temperature: float = 1.0
) -> EvalResult:
    """Masked / unmasked figures of the scored rows (``hf_ser.evaluation.scoring``), plus CIs and breakdowns."""
    # Planned on the scored clips only: a class whose every clip was unreadable is absent from the target.
    s = score_logits(logits, [cols["label"][i] for i in rows], model_labels, label_map=label_map, temperature=temperature)
    plan = s.plan
    unmasked = {**s.unmasked, "ci": _ci(s.refs_unmasked, s.preds_unmasked, plan.eval_labels, n_boot, seed, alpha)}
    masked = {**s.masked, "ci": _ci(s.refs_masked, s.preds_masked, plan.target_labels, n_boot, seed, alpha)}
    speakers = [speaker_key(cols["corpus"][i], cols["speaker"][i]) for i in rows]
    groups = {"speaker": speakers}
    for column in ("language", "gender"):
        if column in dataset.column_names:
            values = dataset[column]
            groups[column] = [values[i] for i in rows]
    groups = {c: groups[c] for c in BREAKDOWN_COLUMNS if c in groups}
    corpora = sorted(set(cols["corpus"]))
    if len(corpora) > 1:
        groups["corpus"] = [cols["corpus"][i] for i in rows]
    return EvalResult(
        corpora=corpora,
        plan=plan,
        label_map=dict(label_map),
        utt_ids=[cols["utt_id"][i] for i in rows],
        rel_paths=[cols["rel_path"][i] for i in rows],
        corpus_of=[cols["corpus"][i] for i in rows],
        speakers=speakers,
        references=s.references_mapped,
        predictions_masked=[plan.target_labels[k] for k in s.preds_masked],
        predictions_unmasked=[plan.eval_labels[k] for k in s.preds_unmasked],
        logits=logits,
        masked=masked,
        unmasked=unmasked,
        breakdowns=_breakdowns(groups, s.refs_masked, s.preds_masked, plan.target_labels),
        left_out=left_out,
        ci_settings={"n_boot": n_boot, "seed": seed, "alpha": alpha},
    )
