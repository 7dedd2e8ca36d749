"""What ``hf_ser.load(...).predict`` and ``.segments`` return: small typed records with the JSON the server sends."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ABSTAIN = "abstain"  # the label of an answer below the caller's minimum confidence (``min_confidence``)


def answer(probabilities: dict[str, float], min_confidence: float | None) -> str | None:
    """The label to give: the most probable class, or ``ABSTAIN`` when its probability is below
    ``min_confidence`` (``None``: always answer). The one abstention rule of the API, the CLI and the server."""
    if not probabilities:
        return None
    label, top = max(probabilities.items(), key=lambda t: t[1])
    return ABSTAIN if min_confidence is not None and top < min_confidence else label


def with_min_confidence(prediction: Prediction, min_confidence: float | None) -> Prediction:
    """``prediction`` (and its segments) relabelled under ``min_confidence`` (the server's per-request
    ``?min_confidence=``); probabilities are kept."""
    if prediction.probabilities:
        prediction.label = answer(prediction.probabilities, min_confidence)
    for segment in prediction.segments:
        if segment.probabilities:
            segment.label = answer(segment.probabilities, min_confidence)
    return prediction


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {k: round(float(v), 6) for k, v in values.items()}


def top_k(probabilities: dict[str, float], k: int | None) -> list[dict[str, Any]]:
    """The ``k`` most probable classes, most probable first (all of them when ``k`` is ``None``)."""
    ranked = sorted(probabilities.items(), key=lambda t: -t[1])
    return [{"label": lab, "probability": round(float(p), 6)} for lab, p in ranked[: k if k else None]]


@dataclass
class Segment:
    """A stretch of one input: a speech segment (``segments``) or a fixed window (``predict`` on long audio).

    ``probabilities`` has every class of the model (in the model's label order); ``dims`` the regressed
    dimensions of a regression / multitask model.
    """

    start_s: float
    end_s: float
    label: str | None
    probabilities: dict[str, float] = field(default_factory=dict)
    dims: dict[str, float] = field(default_factory=dict)
    # What a speech segment (``segments``) used, as ``Prediction``'s; ``None`` for ``predict``'s windows (they
    # share their input's transcript).
    modality: str | None = None
    text_source: str | None = None
    transcript: str | None = None

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def to_dict(self, k: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "label": self.label,
            "probabilities": _rounded(self.probabilities),
        }
        if self.dims:
            out["dims"] = _rounded(self.dims)
        if k:
            out["top_k"] = top_k(self.probabilities, k)
        out.update(_text_fields(self))
        return out


# What a prediction or a speech segment says about its transcript (fields of ``Segment`` and ``Prediction``; the
# columns ``hf-ser predict`` adds for a speech + text model).
TEXT_FIELDS = ("modality", "text_source", "transcript")


def _text_fields(item: Segment | Prediction) -> dict[str, Any]:
    """What an item used: ``modality``, ``text_source`` and the ASR's ``transcript``, those that are set."""
    return {k: getattr(item, k) for k in TEXT_FIELDS if getattr(item, k) is not None}


@dataclass
class Prediction:
    """The result for one input (a file, or an in-memory array named ``source``).

    ``error`` is set, and the rest empty, when the input could not be labelled (unreadable, silent, too short,
    or no speech found by ``segments``). ``speech_s`` is the speech that ``segments`` classified (``None`` for
    ``predict``): the file-level ``probabilities`` are then the duration-weighted mean over those segments.
    """

    source: str
    label: str | None = None
    probabilities: dict[str, float] = field(default_factory=dict)
    dims: dict[str, float] = field(default_factory=dict)
    duration_s: float = 0.0
    segments: list[Segment] = field(default_factory=list)
    speech_s: float | None = None
    error: str | None = None
    modality: str | None = None
    """What the prediction used: ``speech``, or ``speech+text`` when a speech + text model got a transcript for
    this input (``hf_ser.modality``)."""
    text_source: str | None = None
    """Where the transcript came from: ``given`` (by the caller), ``asr`` (the recogniser the model was loaded
    with), ``none`` (speech alone; always for a speech-only model)."""
    transcript: str | None = None
    """The ASR's transcript (``text_source == "asr"``; ``segments``: its segments' transcripts in order)."""

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self, k: int | None = None) -> dict[str, Any]:
        """JSON-ready: what ``hf-ser predict --output x.jsonl`` writes per line and ``POST /v1/predict`` returns.

        Args:
            k: also give ``top_k``: the ``k`` most probable classes, most probable first.
        """
        out: dict[str, Any] = {
            "source": self.source,
            "label": self.label,
            "probabilities": _rounded(self.probabilities),
            "duration_s": round(self.duration_s, 3),
        }
        if self.dims:
            out["dims"] = _rounded(self.dims)
        if k:
            out["top_k"] = top_k(self.probabilities, k)
        if self.speech_s is not None:
            out["speech_s"] = round(self.speech_s, 3)
        out.update(_text_fields(self))
        if self.segments:
            out["segments"] = [s.to_dict(k) for s in self.segments]
        out["error"] = self.error
        return out
