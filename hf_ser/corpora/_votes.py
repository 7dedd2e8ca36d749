"""Annotator votes: the per-clip vote vector over the canonical labels, and the perceived majority label.

Corpora that ship every rater's answer (CREMA-D's crowd tables, IEMOCAP's evaluator lines, MSP-Podcast's
per-annotator file) fill three schema columns:

* ``votes``: vote mass per canonical label, in ``VOTE_LABELS`` order (``CANONICAL_LABELS``), after the run's
  ``label_map`` and label set (a merged label's votes add up; votes for labels outside the set are dropped).
  All zeros when the corpus has no votes for the clip. ``vote_distribution`` turns it into a distribution.
* ``n_raters``: how many raters answered (before any label was dropped); 0 when unknown.
* ``perceived_label``: the majority label as the corpus itself defines it (CREMA-D ``emoVote`` /
  ``VoiceVote``, IEMOCAP's summary label, MSP-Podcast's consensus ``EmoClass``), mapped like ``label``;
  ``NO_AGREEMENT`` for a tie or a corpus "no agreement" code (IEMOCAP ``xxx``, MSP-Podcast ``X``); ``""``
  when the corpus defines none or the label falls outside the label set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from hf_ser.corpora._labels import CANONICAL_LABELS, LabelSet, map_label

VOTE_LABELS: tuple[str, ...] = CANONICAL_LABELS
NO_AGREEMENT = "no_agreement"
_INDEX = {label: i for i, label in enumerate(VOTE_LABELS)}


def vote_vector(
    counts: Mapping[str, float],
    label_set: LabelSet = "all",
    label_map: Mapping[str, str | None] | None = None,
) -> list[float]:
    """Votes per canonical label (``VOTE_LABELS`` order) after the user map and the label set.

    Args:
        counts: canonical label -> votes for one clip (what the corpus parser counted).
        label_set, label_map: those of the load; only canonical keys of ``label_map`` apply to votes.
    """
    out = [0.0] * len(VOTE_LABELS)
    for label, n in counts.items():
        target = map_label(label, label, label_set, label_map)
        if target is not None and n:
            out[_INDEX[target]] += float(n)
    return out


def map_perceived(
    perceived: str, label_set: LabelSet = "all", label_map: Mapping[str, str | None] | None = None
) -> str:
    """A parsed perceived label (canonical or ``NO_AGREEMENT``) mapped like the clip's ``label``."""
    if perceived in ("", NO_AGREEMENT):
        return perceived
    return map_label(perceived, perceived, label_set, label_map) or ""


def majority(counts: Mapping[str, float]) -> str:
    """The label with the most votes; ``NO_AGREEMENT`` on a tie, ``""`` without votes."""
    positive = {k: v for k, v in counts.items() if v > 0}
    if not positive:
        return ""
    top = max(positive.values())
    winners = [k for k, v in positive.items() if v == top]
    return winners[0] if len(winners) == 1 else NO_AGREEMENT


def vote_distribution(votes: Sequence[float], labels: Sequence[str]) -> np.ndarray | None:
    """The votes of ``labels`` (a run's classes) as a distribution, or ``None`` when none of them got a vote.

    ``votes`` is one row's ``votes`` column (``VOTE_LABELS`` order).
    """
    vec = np.asarray([float(votes[_INDEX[label]]) if label in _INDEX else 0.0 for label in labels])
    total = vec.sum()
    if total <= 0:
        return None
    return vec / total


def vote_matrix(
    rows_votes: Sequence[Sequence[float]], labels: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row vote distributions over ``labels`` and a mask of the rows that have one.

    Returns:
        ``(distributions (n, len(labels)) float32, has_votes (n,) bool)``; rows without votes are all zeros.
    """
    out = np.zeros((len(rows_votes), len(labels)), dtype=np.float32)
    has = np.zeros(len(rows_votes), dtype=bool)
    for i, votes in enumerate(rows_votes):
        dist = vote_distribution(votes, labels) if len(votes) else None
        if dist is not None:
            out[i] = dist
            has[i] = True
    return out, has
