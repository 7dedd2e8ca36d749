"""Canonical emotion labels, named label sets, and label mapping.

Every corpus maps its own codes to the canonical names below in its module (``LABELS`` dict); label sets
then choose which canonical labels a run uses and which are merged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hf_ser.errors import UserError

CANONICAL_LABELS: tuple[str, ...] = (
    "anger",
    "boredom",
    "calm",
    "contempt",
    "disgust",
    "excitement",
    "fear",
    "frustration",
    "happiness",
    "neutral",
    "sadness",
    "surprise",
    "amusement",
    "sleepiness",
    "other",
)

# name -> {canonical label: label used in the run}. ``None`` means "every canonical label, no merging".
LABEL_SETS: dict[str, dict[str, str] | None] = {
    "all": None,
    # SUPERB / most IEMOCAP papers: excitement is merged into happiness.
    "4class": {
        "anger": "anger",
        "happiness": "happiness",
        "excitement": "happiness",
        "neutral": "neutral",
        "sadness": "sadness",
    },
    "6class": {
        name: name for name in ("anger", "disgust", "fear", "happiness", "neutral", "sadness")
    },
}

LabelSet = str | Sequence[str]

# How people write the canonical labels in their own manifests and folders (matched in lower case). The one table
# of spellings: manifest, audiofolder and ``datasets`` corpora read labels through ``spelled_label``.
SPELLINGS: dict[str, str] = {
    **{name: name for name in CANONICAL_LABELS},
    "angry": "anger", "ang": "anger", "mad": "anger",
    "bored": "boredom", "bor": "boredom",
    "calmness": "calm", "cal": "calm",
    "contemptuous": "contempt", "con": "contempt",
    "disgusted": "disgust", "dis": "disgust",
    "excited": "excitement", "exc": "excitement",
    "fearful": "fear", "scared": "fear", "afraid": "fear", "fea": "fear",
    "frustrated": "frustration", "fru": "frustration",
    "happy": "happiness", "joy": "happiness", "hap": "happiness",
    "neu": "neutral",
    "sad": "sadness",
    "surprised": "surprise", "sur": "surprise",
    "amused": "amusement",
    "sleepy": "sleepiness",
    "oth": "other",
}


def spelled_label(text: str) -> str | None:
    """The canonical label a user's spelling stands for (case-insensitive, see ``SPELLINGS``), else ``None``."""
    return SPELLINGS.get(text.strip().lower())


def label_mapping(orig_labels: Sequence[str], labels: Sequence[str]) -> list[dict[str, object]]:
    """Every mapping applied to the clips, ``[{"from": written, "to": label, "clips": n}]`` sorted by ``from``: the
    labels as written (``orig_label``) that became another label, for ``data_report.json`` and ``corpora inspect``.
    """
    counts: dict[tuple[str, str], int] = {}
    for orig, label in zip(orig_labels, labels):
        if orig != label:
            counts[(orig, label)] = counts.get((orig, label), 0) + 1
    return [{"from": o, "to": lab, "clips": n} for (o, lab), n in sorted(counts.items())]


class UnknownLabelsError(UserError, ValueError):
    """Labels of a user's corpus that map to no canonical label and that ``label_map`` neither maps nor drops.

    ``counts``: each such label with its clip count; ``named``: them in words (``'x' (3 clips)``), for callers that
    word the fix their own way (``hf-ser evaluate --label-map``).
    """

    def __init__(self, message: str, *, corpus: str = "", counts: Mapping[str, int] | None = None) -> None:
        super().__init__(message)
        self.corpus = corpus
        self.counts = dict(counts or {})
        self.named = "labels that map to no canonical label: " + ", ".join(
            f"{label!r} ({n} clip{'s' if n != 1 else ''})" for label, n in sorted(self.counts.items())
        )


def refuse_unknown_labels(corpus: str, counts: Mapping[str, int]) -> None:
    """Stop before any audio is read when labels map to nothing: one line naming each with its clip count and the
    recipe line that maps or drops it (dropping is never silent).

    Raises:
        UnknownLabelsError: ``counts`` is not empty.
    """
    if not counts:
        return
    named = UnknownLabelsError("", counts=counts).named
    example = ", ".join(f"{label}: null" for label in sorted(counts))
    raise UnknownLabelsError(
        f"{corpus}: {named}. Map each to one of {list(CANONICAL_LABELS)} or drop it in the corpus entry of the "
        f"recipe: label_map: {{{example}}}",
        corpus=corpus,
        counts=counts,
    )


def resolve_label_set(label_set: LabelSet) -> dict[str, str] | None:
    """Turn a label-set name or an explicit list of canonical labels into a mapping (``None`` = keep all).

    Raises:
        KeyError: unknown label-set name (the message lists the valid ones).
        ValueError: a listed label is not canonical.
    """
    if isinstance(label_set, str):
        if label_set not in LABEL_SETS:
            raise KeyError(f"unknown label set {label_set!r}; valid: {sorted(LABEL_SETS)} or a list of labels")
        return LABEL_SETS[label_set]
    labels = list(label_set)
    bad = [lab for lab in labels if lab not in CANONICAL_LABELS]
    if bad:
        raise ValueError(f"labels {bad} are not canonical; canonical labels: {list(CANONICAL_LABELS)}")
    return {lab: lab for lab in labels}


def map_label(
    canonical: str,
    orig: str,
    label_set: LabelSet = "all",
    label_map: Mapping[str, str | None] | None = None,
) -> str | None:
    """Map one clip's label through the user's map and the label set.

    Args:
        canonical: the corpus module's canonical label for the clip.
        orig: the corpus's own code (user maps may key on it, e.g. ``{"exc": "happiness"}``).
        label_set: a name from ``LABEL_SETS`` or a list of canonical labels.
        label_map: optional user map applied first; keys are original codes or canonical labels, values a
            canonical label or ``None`` to drop the clip.

    Returns:
        The label used in the run, or ``None`` when the clip falls outside the label set.
    """
    label: str | None = canonical
    if label_map:
        if orig in label_map:
            label = label_map[orig]
        elif canonical in label_map:
            label = label_map[canonical]
        if label is not None and label not in CANONICAL_LABELS:
            raise ValueError(f"label_map maps to {label!r}, which is not canonical: {list(CANONICAL_LABELS)}")
    if label is None:
        return None
    mapping = resolve_label_set(label_set)
    if mapping is None:
        return label
    return mapping.get(label)
