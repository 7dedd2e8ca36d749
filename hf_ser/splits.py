"""Fold protocols as data: named, cited, deterministic speaker (or clip) partitions, and their manifests.

A protocol turns a canonical dataset (``hf_ser.corpora._schema``) into ``Fold`` s; ``split_fold`` turns one fold
into train / valid / test index lists and refuses any speaker on two sides unless the protocol is declared
speaker-dependent. Speakers are always keyed ``f"{corpus}/{speaker}"`` so that a mixed-corpus run never merges
two corpora's speaker "01".

Published protocols list their speakers as the papers do ("02", "F_03", "Ses01"); data speaker ids are matched
to them after normalisation (lower case, punctuation dropped, leading zeros dropped: "02" == "2"), so a loader
may write "02" or "2". A listed speaker that is absent from the data is an error (``MissingSpeakersError``)
unless ``strict=False``, which drops absent speakers and omits folds left without a test speaker (the
remaining folds keep their published index). Facts and sources: ``docs/corpora.md`` (shared docs) §2.
"""

from __future__ import annotations

import logging
import random
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import datasets

from hf_ser import emobox
from hf_ser.corpora import clip_key, read_columns, speaker_key
from hf_ser.errors import UserError

logger = logging.getLogger(__name__)

_COLUMNS = ("utt_id", "corpus", "speaker", "gender", "label", "session", "split")
# Speaker ids that name no one (MSP-Podcast "Unknown"): they cannot leak and are not checked.
_UNKNOWN_SPEAKERS = frozenset({"", "unknown", "unk", "none"})


class SpeakerLeakError(ValueError):
    """A speaker-independent split has a speaker on two sides."""


class TooFewSpeakersError(UserError, ValueError):
    """The data has too few speakers for the protocol's folds or for a validation side."""


class MissingSpeakersError(UserError, ValueError):
    """A protocol lists speakers the dataset does not have (pass ``strict=False`` to drop them)."""


class MissingClipsError(MissingSpeakersError):
    """A clip-list protocol lists clips the dataset does not have (pass ``strict=False`` to drop them)."""


@dataclass(frozen=True)
class Fold:
    """One fold. Speaker-defined folds name their test (and optionally validation) speakers; clip-defined folds
    (official split columns, stratified random splits) list clip keys ``f"{corpus}/{utt_id}"`` instead.

    Attributes:
        index: fold number within the protocol (published numbering, from 0).
        test_speakers: speaker keys ``f"{corpus}/{speaker}"`` tested in this fold.
        valid_speakers: speaker keys fixed as validation; empty means ``split_fold`` draws them.
        protocol: name of the protocol that made the fold.
        speaker_independent: False for speaker-dependent protocols (no leak check).
        test_clips / valid_clips / train_clips: clip keys for clip-defined folds; ``train_clips`` empty means
            "every clip not in test or valid".
    """

    index: int
    test_speakers: tuple[str, ...]
    valid_speakers: tuple[str, ...] = ()
    protocol: str = ""
    speaker_independent: bool = True
    test_clips: tuple[str, ...] = ()
    valid_clips: tuple[str, ...] = ()
    train_clips: tuple[str, ...] = ()

    @property
    def by_clip(self) -> bool:
        return bool(self.test_clips)


@dataclass(frozen=True)
class Split:
    """Row indices (sorted) of one fold's three sides, with the speakers on each side (sorted keys)."""

    protocol: str
    fold: int
    train: list[int]
    valid: list[int]
    test: list[int]
    train_speakers: tuple[str, ...]
    valid_speakers: tuple[str, ...]
    test_speakers: tuple[str, ...]
    speaker_independent: bool
    seed: int = 0
    valid_fraction: float = 0.2


@dataclass(frozen=True)
class _Table:
    """The metadata columns protocols need, as plain lists (one entry per row)."""

    utt_id: list[str]
    corpus: list[str]
    speaker: list[str]
    gender: list[str]
    label: list[str]
    session: list[str]
    split: list[str]

    @classmethod
    def of(cls, dataset: datasets.Dataset) -> _Table:
        missing = [c for c in _COLUMNS if c not in dataset.column_names]
        if missing:
            raise ValueError(f"dataset lacks the canonical columns {missing} (see hf_ser.corpora._schema)")
        return cls(**{c: [str(v) for v in values] for c, values in read_columns(dataset, _COLUMNS).items()})

    def speaker_keys(self) -> list[str]:
        return [speaker_key(c, s) for c, s in zip(self.corpus, self.speaker)]

    def clip_keys(self) -> list[str]:
        return [clip_key(c, u) for c, u in zip(self.corpus, self.utt_id)]


FoldMaker = Callable[..., list[Fold]]


@dataclass(frozen=True)
class Protocol:
    """A named fold protocol. ``make(table, *, num_folds, seed, strict, **options) -> list[Fold]``."""

    name: str
    corpus: str | None  # None: generic, any corpus or a mix
    description: str
    source: str
    speaker_independent: bool
    make: FoldMaker
    options: tuple[str, ...] = ()  # protocol-specific keyword options make_folds accepts


def normalize_speaker(speaker: str) -> str:
    """Matching form of a speaker id: lower case, alphanumerics only, numbers without leading zeros."""
    text = re.sub(r"[^0-9a-z]", "", speaker.lower())
    return re.sub(r"\d+", lambda m: str(int(m.group())), text)


# ---------------------------------------------------------------------------------------------------------------
# Fold makers


def _fixed_speaker_folds(
    corpus: str,
    test_lists: Sequence[Sequence[str]],
    valid_lists: Sequence[Sequence[str]] | None = None,
    norm: Callable[[str], str] = normalize_speaker,
    rest_trains: bool = False,
) -> FoldMaker:
    """A maker for published folds that list their speakers explicitly.

    ``rest_trains``: the protocol lists only test/validation speakers and every other speaker trains (a holdout
    split), so unlisted speakers are expected rather than an error.
    """

    def make(table: _Table, *, protocol: str, strict: bool = True, **_: Any) -> list[Fold]:
        present = {norm(s): speaker_key(corpus, s) for s in sorted(set(table.speaker))}
        listed = {norm(s) for group in [*test_lists, *(valid_lists or [])] for s in group}
        absent = sorted(s for group in test_lists for s in group if norm(s) not in present)
        unlisted = [] if rest_trains else sorted(key for n, key in present.items() if n not in listed)
        if strict and (absent or unlisted):
            raise MissingSpeakersError(
                f"protocol {protocol!r} does not fit the data: listed speakers absent from the data {absent}; "
                f"speakers in the data the protocol does not list {unlisted}. Pass strict=False to drop absent "
                "speakers (speakers the protocol does not list then only ever train)."
            )
        if unlisted:
            logger.warning("%s: speakers %s are in no fold; they are train-only", protocol, unlisted)
        folds = []
        for index, group in enumerate(test_lists):
            test = tuple(sorted(present[norm(s)] for s in group if norm(s) in present))
            if not test:
                logger.warning("%s: fold %d has none of its test speakers in the data; omitted", protocol, index)
                continue
            valid_group = valid_lists[index] if valid_lists else ()
            valid = tuple(sorted(present[norm(s)] for s in valid_group if norm(s) in present))
            folds.append(Fold(index, test, valid, protocol=protocol))
        return folds

    return make


def _iemocap_sessions(table: _Table, *, protocol: str, strict: bool = True, **_: Any) -> list[Fold]:
    by_session: dict[int, set[str]] = defaultdict(set)
    for speaker, session in zip(table.speaker, table.session):
        # The session column is authoritative; the speaker id ("Ses01M") carries it too.
        m = re.match(r"^ses0*(\d+)", (session or speaker).lower())
        if not m:
            raise ValueError(f"{protocol}: cannot tell the session of IEMOCAP speaker {speaker!r}")
        by_session[int(m.group(1))].add(f"iemocap/{speaker}")
    absent = [k for k in range(1, 6) if k not in by_session]
    unlisted = sorted(k for k in by_session if k not in range(1, 6))
    if strict and (absent or unlisted):
        raise MissingSpeakersError(
            f"protocol {protocol!r}: sessions {absent} absent from the data, unknown sessions {unlisted}; "
            "pass strict=False to drop absent sessions"
        )
    return [Fold(k - 1, tuple(sorted(by_session[k])), protocol=protocol) for k in range(1, 6) if k in by_session]


_IEMOCAP_SPEAKERS = [f"Ses0{k}{g}" for k in range(1, 6) for g in "FM"]
# Each speaker's session partner: same dialogs, so they validate rather than train (see iemocap_speaker_loso).
_IEMOCAP_PARTNERS = [[f"Ses0{k}{'M' if g == 'F' else 'F'}"] for k in range(1, 6) for g in "FM"]


def _deal_speakers(keys: Sequence[str], genders: dict[str, str], num_folds: int, rng: random.Random | None) -> list[list[str]]:
    """Deal speakers into folds round-robin, gender by gender (female, male, unknown), continuing the cycle
    across genders so fold sizes differ by at most one overall and within each gender.

    ``rng`` shuffles each gender group first (seeded); ``None`` deals in sorted id order.
    """
    folds: list[list[str]] = [[] for _ in range(num_folds)]
    position = 0
    for gender in ("female", "male", "unknown"):
        group = sorted(k for k in keys if genders.get(k, "unknown") == gender)
        if rng is not None:
            rng.shuffle(group)
        for key in group:
            folds[position % num_folds].append(key)
            position += 1
    return [sorted(f) for f in folds]


def _speaker_genders(table: _Table) -> dict[str, str]:
    genders: dict[str, str] = {}
    for key, gender in zip(table.speaker_keys(), table.gender):
        genders[key] = gender if gender in ("female", "male") else "unknown"
    return genders


def _crema_d_speaker5(table: _Table, *, protocol: str, **_: Any) -> list[Fold]:
    genders = _speaker_genders(table)
    if len(genders) < 5:
        raise ValueError(f"{protocol}: needs at least 5 speakers, the data has {len(genders)}")
    groups = _deal_speakers(sorted(genders), genders, 5, rng=None)
    return [Fold(i, tuple(g), protocol=protocol) for i, g in enumerate(groups)]


def _speaker_kfold(table: _Table, *, protocol: str, num_folds: int | None = None, seed: int = 0, **_: Any) -> list[Fold]:
    k = 5 if num_folds is None else num_folds
    genders = _speaker_genders(table)
    if not 2 <= k <= len(genders):
        raise TooFewSpeakersError(
            f"{protocol}: num_folds must be between 2 and the number of speakers ({len(genders)}), got {k}; set "
            "data.protocol_options.num_folds, or use data.protocol: stratified_random (speaker-dependent)"
        )
    # Deal corpus by corpus so that every fold of a mixed-corpus run gets speakers of every corpus.
    folds: list[list[str]] = [[] for _ in range(k)]
    rng = random.Random(seed)
    offset = 0
    for corpus in sorted({key.split("/", 1)[0] for key in genders}):
        keys = [key for key in sorted(genders) if key.startswith(corpus + "/")]
        dealt = _deal_speakers(keys, genders, k, rng)
        for i, group in enumerate(dealt):
            folds[(i + offset) % k].extend(group)
        offset += len(keys)
    return [Fold(i, tuple(sorted(f)), protocol=protocol) for i, f in enumerate(folds)]


def _resolve_keys(speakers: Sequence[str], all_keys: set[str], protocol: str) -> tuple[str, ...]:
    corpora = {k.split("/", 1)[0] for k in all_keys}
    resolved = []
    for s in speakers:
        key = s if "/" in s else (speaker_key(next(iter(corpora)), s) if len(corpora) == 1 else s)
        if key not in all_keys:
            raise MissingSpeakersError(f"{protocol}: speaker {s!r} is not in the data (keys look like 'corpus/speaker')")
        resolved.append(key)
    return tuple(sorted(resolved))


def _holdout_speakers(
    table: _Table,
    *,
    protocol: str,
    seed: int = 0,
    test_fraction: float = 0.2,
    test_speakers: Sequence[str] | None = None,
    valid_speakers: Sequence[str] | None = None,
    **_: Any,
) -> list[Fold]:
    all_keys = set(table.speaker_keys())
    if test_speakers:
        test = _resolve_keys(test_speakers, all_keys, protocol)
    else:
        if not 0.0 < test_fraction < 1.0:
            raise ValueError(f"{protocol}: test_fraction must be in (0, 1), got {test_fraction}")
        count = max(1, round(test_fraction * len(all_keys)))
        test = tuple(sorted(_gender_balanced_sample(sorted(all_keys), _speaker_genders(table), count, random.Random(seed))))
    valid = _resolve_keys(valid_speakers, all_keys, protocol) if valid_speakers else ()
    return [Fold(0, test, valid, protocol=protocol)]


def _stratified_random(table: _Table, *, protocol: str, seed: int = 0, test_fraction: float = 0.25, **_: Any) -> list[Fold]:
    # EmoBox write_folds: per emotion, random.sample(int(25 % of the class)) as test.
    by_label: dict[str, list[str]] = defaultdict(list)
    for key, label in zip(table.clip_keys(), table.label):
        by_label[label].append(key)
    rng = random.Random(seed)
    test: list[str] = []
    for label in sorted(by_label):
        keys = sorted(by_label[label])
        test.extend(rng.sample(keys, int(test_fraction * len(keys))))
    keys = table.clip_keys()
    test_set = set(test)
    speakers = sorted({s for s, c in zip(table.speaker_keys(), keys) if c in test_set})
    return [Fold(0, tuple(speakers), protocol=protocol, speaker_independent=False, test_clips=tuple(sorted(test)))]


def _msp_podcast_official(
    table: _Table,
    *,
    protocol: str,
    test_split: str = "Test1",
    **_: Any,
) -> list[Fold]:
    # The dev set is "Development" in the official releases and "Validation" in EmoBox's copy: accept both.
    sides: dict[str, list[str]] = {"train": [], "valid": [], "test": []}
    names = {"train": "train", "development": "valid", "validation": "valid", test_split.lower(): "test"}
    spk_test: set[str] = set()
    for key, spk, split in zip(table.clip_keys(), table.speaker_keys(), table.split):
        side = names.get(split.lower())
        if side is not None:
            sides[side].append(key)
            if side == "test":
                spk_test.add(spk)
    if not sides["test"]:
        raise ValueError(f"{protocol}: no clip has split {test_split!r}; splits present: {sorted(set(table.split))}")
    return [
        Fold(
            0,
            tuple(sorted(spk_test)),
            protocol=protocol,
            test_clips=tuple(sorted(sides["test"])),
            valid_clips=tuple(sorted(sides["valid"])),
            train_clips=tuple(sorted(sides["train"])),
        )
    ]


# The ``split`` values the ``predefined`` protocol reads (case-insensitive) and the side each names.
PREDEFINED_SIDES = {"train": "train", "valid": "valid", "validation": "valid", "dev": "valid", "test": "test"}


class PredefinedSplitError(UserError, ValueError):
    """The data's ``split`` column cannot be the train / valid / test partition the recipe asked for."""


def _predefined(table: _Table, *, protocol: str, **_: Any) -> list[Fold]:
    """One fold from the data's own ``split`` column; a clip without a recognised split stops the run (never lost)."""
    sides: dict[str, list[str]] = {"train": [], "valid": [], "test": []}
    other: dict[str, int] = defaultdict(int)
    test_speakers: set[str] = set()
    for key, spk, split in zip(table.clip_keys(), table.speaker_keys(), table.split):
        side = PREDEFINED_SIDES.get(split.strip().lower())
        if side is None:
            other[split] += 1
            continue
        sides[side].append(key)
        if side == "test":
            test_speakers.add(spk)
    if other:
        named = ", ".join(f"{v!r} ({n} clips)" for v, n in sorted(other.items()))
        raise PredefinedSplitError(
            f"{protocol}: split values {named} are not one of {sorted(PREDEFINED_SIDES)}; set each clip's split "
            "column to train, valid or test, or use data.protocol: speaker_kfold"
        )
    missing = [side for side in ("train", "test") if not sides[side]]
    if missing:
        raise PredefinedSplitError(
            f"{protocol}: no clip has split {' or '.join(missing)}; give clips train and test (and valid) in the "
            "split column, or use data.protocol: speaker_kfold"
        )
    return [
        Fold(0, tuple(sorted(test_speakers)), protocol=protocol, speaker_independent=False,
             test_clips=tuple(sorted(sides["test"])), valid_clips=tuple(sorted(sides["valid"])),
             train_clips=tuple(sorted(sides["train"])))
    ]


def speaker_sharing(split: Split) -> str:
    """In words, whether the split keeps speakers apart, as every report and the model card state it:
    ``speakers unknown`` (no clip names its speaker), ``speaker-dependent split (speakers shared: N)`` (N known
    speakers on both the training and the test side) or ``speaker-independent split (no speaker shared)``.
    """
    named = [k for side in (split.train_speakers, split.valid_speakers, split.test_speakers) for k in side]
    if all(_is_unknown(k) for k in named):
        return "speakers unknown"
    shared = [k for k in set(split.train_speakers) & set(split.test_speakers) if not _is_unknown(k)]
    if shared:
        return f"speaker-dependent split (speakers shared: {len(shared)})"
    return "speaker-independent split (no speaker shared)"


def _emobox_lists(corpus: str) -> FoldMaker:
    """A maker for EmoBox's published clip lists of ``corpus`` (``hf_ser.emobox``): fold k tests, trains (and
    validates, where EmoBox lists a validation side) exactly the listed clips; clips of the data that EmoBox does
    not list are left out of every side."""

    def make(table: _Table, *, protocol: str, strict: bool = True, **_: Any) -> list[Fold]:
        info = emobox.index()[corpus]
        lists = emobox.fold_lists(corpus)
        present = dict(zip(table.utt_id, table.speaker_keys()))
        listed = {u for fold in lists for side in fold.values() for u in side}
        absent = sorted(listed - set(present) - set(info.expected_absent))
        if strict and absent:
            raise MissingClipsError(
                f"protocol {protocol!r}: {len(absent)} of the {len(listed)} clips EmoBox lists are not in the data "
                f"(e.g. {absent[:5]}). Load the whole corpus with label_set {info.label_set} (and label_map "
                f"{info.label_map}), or pass strict=False to run on the clips present (the folds then differ "
                "from EmoBox's)."
            )
        unlisted = sorted(set(present) - listed)
        if unlisted:
            logger.warning("%s: %d clips of the data are in no EmoBox list (e.g. %s); left out", protocol,
                           len(unlisted), unlisted[:5])
        folds = []
        for index, sides in enumerate(lists):
            keys = {side: tuple(sorted(clip_key(corpus, u) for u in ids if u in present)) for side, ids in sides.items()}
            if not keys["test"] or not keys["train"]:
                logger.warning("%s: fold %d has no %s clip in the data; omitted", protocol, index,
                               "test" if not keys["test"] else "train")
                continue
            test_speakers = tuple(sorted({present[u] for u in sides["test"] if u in present}))
            folds.append(Fold(index, test_speakers, protocol=protocol, test_clips=keys["test"],
                              valid_clips=keys["valid"], train_clips=keys["train"]))
        return folds

    return make


# TFDS crema_d leaves out four files that exist (its summaryTable join misses them) and keeps the silent
# 1076_MTI_SAD_XX, which hf_ser never uses (the loader drops it as a known silent file).
_TFDS_EXCLUDED = ("1006_TIE_NEU_XX", "1017_IWW_FEA_XX", "1013_WSI_DIS_XX", "1040_ITH_SAD_XX")
_TFDS_TEST = ["1010", "1013", "1022", "1026", "1037", "1038", "1040", "1045", "1047", "1048", "1059", "1065", "1066",
              "1068", "1071", "1073", "1084", "1086", "1088"]
_TFDS_VALID = ["1015", "1020", "1021", "1030", "1050", "1070", "1079", "1089", "1090"]
_crema_d_tfds_speakers = _fixed_speaker_folds("crema_d", [_TFDS_TEST], [_TFDS_VALID], rest_trains=True)


def _crema_d_tfds_exact(table: _Table, *, protocol: str, strict: bool = True, **_: Any) -> list[Fold]:
    folds = _crema_d_tfds_speakers(table, protocol=protocol, strict=strict)
    excluded = {f"crema_d/{u}" for u in _TFDS_EXCLUDED}
    out = []
    for fold in folds:
        sides: dict[str, list[str]] = {"test": [], "valid": [], "train": []}
        test, valid = set(fold.test_speakers), set(fold.valid_speakers)
        for key, spk in zip(table.clip_keys(), table.speaker_keys()):
            if key not in excluded:
                sides["test" if spk in test else "valid" if spk in valid else "train"].append(key)
        out.append(Fold(fold.index, fold.test_speakers, fold.valid_speakers, protocol=protocol,
                        test_clips=tuple(sorted(sides["test"])), valid_clips=tuple(sorted(sides["valid"])),
                        train_clips=tuple(sorted(sides["train"]))))
    return out


# ---------------------------------------------------------------------------------------------------------------
# Registry

_LUNA = "Luna-Jiménez et al. 2022, Appl. Sci. 12(1):327, §3.1; repo cristinalunaj/MMEmotionRecognition @aeb7844 (actors_per_fold)"
_EMOBOX = "Ma et al. 2024, EmoBox (Interspeech 2024); emo-box/EmoBox @08280f2 data/<corpus>/fold_k/*_test_fold_k.jsonl"


def _emobox_protocol(corpus: str, info: emobox.EmoBoxCorpus) -> Protocol:
    dependence = "speaker-DEPENDENT (a speaker on both sides)" if info.speaker_dependent else "speaker-independent"
    return Protocol(
        f"{corpus}_emobox",
        corpus,
        f"EmoBox's published folds for {corpus}, clip for clip: {info.num_folds} fold(s), {dependence}, "
        f"{info.clips} clips listed" + (f"; {info.note}" if info.note else ""),
        f"Ma et al. 2024, EmoBox; {info.source} @{info.commit[:7]} {', '.join(sorted({f.rsplit('/', 2)[0] for f in info.files}))}"
        " (stored in hf_ser/splits_data/emobox/, see hf_ser.emobox)",
        not info.speaker_dependent,
        _emobox_lists(corpus),
    )

PROTOCOLS: dict[str, Protocol] = {
    p.name: p
    for p in (
        Protocol(
            "ravdess_luna5",
            "ravdess",
            "RAVDESS speech, 5 subject-wise folds (test actors 2 5 14 15 16 | 3 6 7 13 18 | 10 11 12 19 20 | "
            "8 17 21 23 24 | 1 4 9 22); the paper selects checkpoints on the test fold, use the inner validation",
            _LUNA,
            True,
            _fixed_speaker_folds(
                "ravdess",
                [["2", "5", "14", "15", "16"], ["3", "6", "7", "13", "18"], ["10", "11", "12", "19", "20"],
                 ["8", "17", "21", "23", "24"], ["1", "4", "9", "22"]],
            ),
        ),
        Protocol(
            "ravdess_emobox6",
            "ravdess",
            "RAVDESS, EmoBox's 6 folds of 4 actors",
            _EMOBOX,
            True,
            _fixed_speaker_folds(
                "ravdess",
                [["01", "11", "20", "21"], ["04", "10", "12", "14"], ["08", "09", "19", "23"],
                 ["03", "05", "07", "24"], ["02", "15", "16", "18"], ["06", "13", "17", "22"]],
            ),
        ),
        Protocol(
            "iemocap_session_loso",
            "iemocap",
            "IEMOCAP leave-one-session-out, 5 folds: fold k tests Session k+1 (both its speakers)",
            "SUPERB ER: s3prl/s3prl downstream/emotion/config.yaml @01b17a8 + er.sh (fold1..fold5 test Session1..5)",
            True,
            _iemocap_sessions,
        ),
        Protocol(
            "iemocap_speaker_loso",
            "iemocap",
            "IEMOCAP leave-one-speaker-out, 10 folds (Ses01F, Ses01M, ..., Ses05M); the test speaker's session "
            "partner is the validation speaker, since the two share every dialog",
            "common IEMOCAP practice (one session speaker tests, the other validates); speaker ids from the "
            "utterance suffix, see docs/corpora.md §1.6",
            True,
            _fixed_speaker_folds("iemocap", [[s] for s in _IEMOCAP_SPEAKERS], _IEMOCAP_PARTNERS),
        ),
        Protocol(
            "emodb_loso",
            "emodb",
            "EMO-DB leave-one-speaker-out, 10 folds (speakers 03 08 09 10 11 12 13 14 15 16)",
            "convention in EMO-DB SER papers (no single canonical source); EmoBox's own EmoDB folds are "
            "speaker-dependent, see docs/corpora.md §2.3",
            True,
            _fixed_speaker_folds("emodb", [[s] for s in ("03", "08", "09", "10", "11", "12", "13", "14", "15", "16")]),
        ),
        Protocol(
            "emovo_loso",
            "emovo",
            "EMOVO leave-one-speaker-out in EmoBox's order f2, m3, m2, f3, f1, m1",
            _EMOBOX,
            True,
            _fixed_speaker_folds("emovo", [[s] for s in ("f2", "m3", "m2", "f3", "f1", "m1")]),
        ),
        Protocol(
            "savee_loso",
            "savee",
            "SAVEE leave-one-speaker-out in EmoBox's order JE, KL, DC, JK (all male)",
            _EMOBOX,
            True,
            _fixed_speaker_folds("savee", [[s] for s in ("JE", "KL", "DC", "JK")]),
        ),
        Protocol(
            "crema_d_tfds",
            "crema_d",
            "CREMA-D speaker-disjoint 70/10/20 of TFDS crema_d: one fold, 19 test and 9 validation speakers fixed",
            "tensorflow/datasets tensorflow_datasets/audio/crema_d.py @1aceae8 (RandomState(0) shuffle of sorted "
            "ids, cut at 63/72), lists re-derived in docs/corpora.md §2.4",
            True,
            _fixed_speaker_folds(
                "crema_d",
                [["1010", "1013", "1022", "1026", "1037", "1038", "1040", "1045", "1047", "1048", "1059", "1065",
                  "1066", "1068", "1071", "1073", "1084", "1086", "1088"]],
                [["1015", "1020", "1021", "1030", "1050", "1070", "1079", "1089", "1090"]],
                rest_trains=True,
            ),
        ),
        Protocol(
            "crema_d_speaker5",
            "crema_d",
            "CREMA-D, 5 speaker folds: sorted female ids then sorted male ids (then unknown gender) dealt "
            "round-robin into folds 0..4, continuing the cycle, so fold sizes and per-gender counts differ by "
            "at most one (91 speakers, 43F/48M: 19/18/18/18/18)",
            "hf_ser rule in the spirit of EMO-SUPERB's gender-mixed speaker sets (membership unpublished), "
            "docs/corpora.md §2.4",
            True,
            _crema_d_speaker5,
        ),
        Protocol(
            "crema_d_tfds_exact",
            "crema_d",
            "CREMA-D, TFDS crema_d's clip lists: crema_d_tfds's speakers without the four files TFDS leaves out "
            "although they exist (1006_TIE_NEU_XX, 1017_IWW_FEA_XX train; 1013_WSI_DIS_XX, 1040_ITH_SAD_XX test): "
            "test 1556, validation and test identical to TFDS; train 5143 = TFDS's 5144 without the silent "
            "1076_MTI_SAD_XX, which hf_ser never uses",
            "tensorflow/datasets tensorflow_datasets/audio/crema_d.py @1aceae8 (speaker cut as crema_d_tfds; files "
            "missing from its summaryTable join left out), docs/corpora.md",
            True,
            _crema_d_tfds_exact,
        ),
        Protocol(
            "msp_podcast_official",
            "msp_podcast",
            "MSP-Podcast official partition from the split column: Train / Development (or Validation) / Test1 "
            "(option test_split='Test2'); other splits are left out; 'Unknown' speakers are not leak-checked",
            "MSP-Podcast release Split_Set; EmoBox uses Train/Validation/Test1, docs/corpora.md §1.18, §2.5",
            True,
            _msp_podcast_official,
            ("test_split",),
        ),
        Protocol(
            "speaker_kfold",
            None,
            "generic: speakers of any corpus or mix dealt into num_folds (default 5) folds; seeded shuffle "
            "within each corpus and gender, round-robin so every fold mixes corpora and genders",
            "hf_ser generic protocol",
            True,
            _speaker_kfold,
        ),
        Protocol(
            "holdout_speakers",
            None,
            "generic: one fold; test_speakers=[...] (keys 'corpus/speaker', or bare ids for one corpus) or a "
            "seeded test_fraction (default 0.2) of the speakers; optional valid_speakers",
            "hf_ser generic protocol",
            True,
            _holdout_speakers,
            ("test_fraction", "test_speakers", "valid_speakers"),
        ),
        Protocol(
            "predefined",
            None,
            "your own partition: one fold from the data's split column (train, valid / dev / validation, test; "
            "case-insensitive); no validation clips -> validation drawn from train; speakers are not leak-checked, "
            "every report says how many the split shares",
            "hf_ser generic protocol (the manifest's or audiofolder's split column)",
            False,
            _predefined,
        ),
        Protocol(
            "stratified_random",
            None,
            "speaker-DEPENDENT: one fold, a seeded, per-label stratified test_fraction (default 25 %) of clips; the "
            "same RULE as EmoBox's single-fold corpora but not its clips (use <corpus>_emobox for those)",
            "hf_ser generic protocol (rule of EmoBox write_folds() for unbalanced or < 4-speaker corpora)",
            False,
            _stratified_random,
            ("test_fraction",),
        ),
    )
}
PROTOCOLS.update({f"{c}_emobox": _emobox_protocol(c, info) for c, info in emobox.index().items()})


def get_protocol(name: str) -> Protocol:
    """Look a protocol up by name; the error lists the valid names."""
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise KeyError(f"unknown fold protocol {name!r}; valid: {sorted(PROTOCOLS)}") from None


def protocols_for(corpus: str) -> list[str]:
    """Names of the protocols written for ``corpus`` (generic protocols apply to every corpus too)."""
    return [name for name, p in PROTOCOLS.items() if p.corpus == corpus]


# ---------------------------------------------------------------------------------------------------------------
# Public API


def make_folds(
    dataset: datasets.Dataset,
    protocol: str,
    *,
    num_folds: int | None = None,
    seed: int = 0,
    strict: bool = True,
    **options: Any,
) -> list[Fold]:
    """Make the folds of ``protocol`` for ``dataset`` (canonical schema).

    Args:
        dataset: clips in the canonical schema; a corpus-specific protocol needs that corpus only.
        protocol: a name in ``PROTOCOLS``.
        num_folds: fold count for ``speaker_kfold`` (default 5); for published protocols it may only repeat
            the published count (a guard for recipes).
        seed: seed of the generic protocols (``speaker_kfold``, ``holdout_speakers``, ``stratified_random``).
        strict: published protocols raise ``MissingSpeakersError`` when the data lacks a listed speaker or has
            one the protocol does not list; ``False`` drops absent speakers, omits folds left without a test
            speaker, and keeps unlisted speakers in training only.
        **options: protocol-specific options (``Protocol.options``), e.g. ``test_fraction`` or ``test_split``.

    Returns:
        The folds in published order; ``Fold.index`` keeps the published number.
    """
    spec = get_protocol(protocol)
    unknown = sorted(set(options) - set(spec.options))
    if unknown:
        raise TypeError(f"protocol {protocol!r} has no options {unknown}; its options: {list(spec.options)}")
    table = _Table.of(dataset)
    if not table.utt_id:
        raise ValueError(f"{protocol}: the dataset is empty")
    corpora = sorted(set(table.corpus))
    if spec.corpus is not None and corpora != [spec.corpus]:
        raise ValueError(f"protocol {protocol!r} is for corpus {spec.corpus!r}, the dataset holds {corpora}")
    folds = spec.make(table, protocol=protocol, num_folds=num_folds, seed=seed, strict=strict, **options)
    if protocol != "speaker_kfold" and num_folds is not None and num_folds != len(folds):
        raise ValueError(f"protocol {protocol!r} has {len(folds)} folds on this data, not num_folds={num_folds}")
    # The protocol, not the maker, decides speaker independence, so reports can quote it.
    return [
        Fold(f.index, f.test_speakers, f.valid_speakers, protocol, spec.speaker_independent, f.test_clips,
             f.valid_clips, f.train_clips)
        for f in folds
    ]


def split_fold(
    dataset: datasets.Dataset,
    fold: Fold,
    *,
    valid_fraction: float = 0.2,
    seed: int = 0,
    speaker_independent: bool = True,
) -> Split:
    """Split ``dataset`` into train / valid / test for one fold.

    The test side is the fold's test speakers (or clips). The validation side is the fold's fixed validation
    speakers (or clips) when it has them; otherwise ``valid_fraction`` of the training SPEAKERS (at least one,
    seeded by ``seed`` and the fold index) or, for a speaker-dependent split, a per-label stratified fraction
    of the training clips. ``valid_fraction=0`` gives no validation side.

    Args:
        dataset: the same rows the fold was made from (a filtered copy works: folds hold keys, not indices).
        fold: from ``make_folds``.
        valid_fraction: share of the training speakers drawn as validation.
        seed: seed of the validation draw.
        speaker_independent: ``False`` makes the split speaker-dependent (clip-level validation draw, no leak
            check); a fold from a speaker-dependent protocol is speaker-dependent whatever this says.

    Raises:
        SpeakerLeakError: a speaker-independent split has a speaker on two sides (the message names them).
        ValueError: the fold has no test clip in ``dataset``, or no training speaker is left for validation.
    """
    table = _Table.of(dataset)
    independent = speaker_independent and fold.speaker_independent
    spk = table.speaker_keys()
    if fold.by_clip:
        units, test_set, valid_set, train_only = table.clip_keys(), set(fold.test_clips), set(fold.valid_clips), set(fold.train_clips)
    else:
        units, test_set, valid_set, train_only = spk, set(fold.test_speakers), set(fold.valid_speakers), set()
    test = [i for i, u in enumerate(units) if u in test_set]
    if not test:
        raise ValueError(f"{fold.protocol} fold {fold.index}: none of its test {'clips' if fold.by_clip else 'speakers'} is in the dataset")
    valid = [i for i, u in enumerate(units) if u in valid_set and u not in test_set]
    rest = [i for i, u in enumerate(units) if u not in test_set and u not in valid_set and (not train_only or u in train_only)]
    if not valid and valid_fraction > 0:
        rng = random.Random(seed * 1_000 + fold.index)
        if independent:
            drawn = _draw_speakers([spk[i] for i in rest], valid_fraction, rng, fold, _speaker_genders(table))
            valid = [i for i in rest if spk[i] in drawn]
        else:
            valid = _draw_stratified(rest, table.label, valid_fraction, rng)
        valid_ids = set(valid)
        rest = [i for i in rest if i not in valid_ids]
    sides = {"train": rest, "valid": sorted(valid), "test": test}
    speakers = {side: tuple(sorted({spk[i] for i in idx})) for side, idx in sides.items()}
    if independent:
        _check_no_leak(speakers, fold)
    return Split(
        protocol=fold.protocol,
        fold=fold.index,
        train=sides["train"],
        valid=sides["valid"],
        test=sides["test"],
        train_speakers=speakers["train"],
        valid_speakers=speakers["valid"],
        test_speakers=speakers["test"],
        speaker_independent=independent,
        seed=seed,
        valid_fraction=valid_fraction,
    )


def _draw_speakers(
    keys: Sequence[str], fraction: float, rng: random.Random, fold: Fold, genders: dict[str, str]
) -> set[str]:
    candidates = sorted(set(keys))
    if len(candidates) < 2:
        raise TooFewSpeakersError(
            f"{fold.protocol} fold {fold.index}: {len(candidates)} training speaker(s) left, cannot draw validation "
            "speakers; set data.valid_fraction=0 (with data.selection_split=none), add speakers, or use a protocol "
            "that fixes the split (data.protocol: predefined with a split column, or stratified_random)"
        )
    count = min(len(candidates) - 1, max(1, round(fraction * len(candidates))))
    return _gender_balanced_sample(candidates, genders, count, rng)


def _gender_balanced_sample(keys: Sequence[str], genders: dict[str, str], count: int, rng: random.Random) -> set[str]:
    """Draw ``count`` speakers, alternating genders as far as the pool allows.

    Why: a held-out side of one gender only measures how emotion cues transfer across voices of the other
    gender (pitch above all), which is not what a speaker-independent split is meant to measure.
    """
    pools = {}
    for gender in ("female", "male", "unknown"):
        group = sorted(k for k in keys if genders.get(k, "unknown") == gender)
        rng.shuffle(group)
        if group:
            pools[gender] = group
    drawn: list[str] = []
    while len(drawn) < count and any(pools.values()):
        # Take from the gender that is furthest below its share of the pool so far.
        gender = max((g for g in pools if pools[g]), key=lambda g: (len(pools[g]), g))
        drawn.append(pools[gender].pop())
    return set(drawn)


def _draw_stratified(rows: Sequence[int], labels: Sequence[str], fraction: float, rng: random.Random) -> list[int]:
    by_label: dict[str, list[int]] = defaultdict(list)
    for i in rows:
        by_label[labels[i]].append(i)
    drawn: list[int] = []
    for label in sorted(by_label):
        drawn.extend(rng.sample(by_label[label], round(fraction * len(by_label[label]))))
    return sorted(drawn)


def _is_unknown(key: str) -> bool:
    return key.split("/", 1)[-1].strip().lower() in _UNKNOWN_SPEAKERS


def _check_no_leak(speakers: dict[str, tuple[str, ...]], fold: Fold) -> None:
    leaks = []
    for a, b in (("train", "test"), ("train", "valid"), ("valid", "test")):
        shared = sorted(k for k in set(speakers[a]) & set(speakers[b]) if not _is_unknown(k))
        if shared:
            leaks.append(f"{a}/{b}: {shared}")
    if leaks:
        raise SpeakerLeakError(
            f"{fold.protocol} fold {fold.index} is declared speaker-independent but speakers are on two sides "
            f"({'; '.join(leaks)}). Use a speaker-dependent protocol (or speaker_independent=False) if intended."
        )
