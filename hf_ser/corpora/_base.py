"""Shared machinery for corpus loaders: clip records, skip accounting, and the Dataset builder.

A corpus module parses its layout into ``Clip`` records (and ``SkippedFile`` entries for files it cannot
parse), then calls ``build_dataset``, which applies the label set, reads each header, and returns a
``datasets.Dataset`` in the canonical schema. Counts always reconcile:
``found == used + skipped + excluded_by_label_set``.

What counts as a file of the corpus (``iter_files``): extensions match case-insensitively (``.WAV`` and
``.Wav`` are ``.wav``); hidden files and folders (a name starting with ``.``, which includes AppleDouble
``._*`` files) and ``__MACOSX`` folders are not part of the corpus and are never counted; a dangling symbolic
link IS counted and reported as skipped. What is usable (``build_dataset``): a readable header, at least one
sample, a WAV that holds every frame its header promises ("truncated: header N frames, file holds M"), and at
least ``SkipLog.min_samples`` samples at 16 kHz ("too short: N samples < M", the model CNN's receptive
field). Among clips with the same ``utt_id`` the first USABLE one in sorted path order wins; the others are
reported as duplicates.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import datasets

from hf_ser.audio import SAMPLE_RATE, AudioError, special_file_reason
from hf_ser.corpora._headers import header_cache
from hf_ser.corpora._labels import LabelSet, map_label, resolve_label_set
from hf_ser.corpora._schema import FEATURES, GENDERS
from hf_ser.corpora._votes import map_perceived, vote_vector
from hf_ser.errors import UserError

logger = logging.getLogger(__name__)


class CorpusLayoutError(UserError, FileNotFoundError):
    """The corpus root is missing or is not laid out as the corpus is distributed."""


@dataclass(frozen=True)
class CorpusInfo:
    """Static facts about a corpus, shown by ``hf-ser corpora list`` and in model cards."""

    name: str
    title: str
    languages: tuple[str, ...]
    labels: tuple[str, ...]  # canonical labels the corpus has
    license: str
    url: str
    redistributable: bool = False  # may a prepared copy be pushed to the Hub?
    # The licence forbids redistributing the corpus's annotations (labels, speaker IDs, clip lists), so a run's
    # per-clip manifests may not be published: ``hf-ser push --include-manifests`` is refused.
    annotations_restricted: bool = False
    protocols: tuple[str, ...] = ()  # fold protocol names (see hf_ser.splits)


@dataclass
class Clip:
    """One parsed clip before label-set filtering. ``emotion`` is the canonical label."""

    path: Path
    utt_id: str
    emotion: str
    orig_label: str
    speaker: str
    gender: str = "unknown"
    language: str = ""
    text: str = ""
    session: str = ""
    split: str = ""
    valence: float = math.nan
    arousal: float = math.nan
    dominance: float = math.nan
    meta: dict[str, Any] = field(default_factory=dict)
    votes: dict[str, float] = field(default_factory=dict)  # canonical label -> rater votes (before mapping)
    n_raters: int = 0
    perceived: str = ""  # corpus-defined majority: canonical label, NO_AGREEMENT, or "" (none)


@dataclass(frozen=True)
class SkippedFile:
    """A file left out of the dataset, with its path relative to the corpus root and why."""

    path: str
    reason: str


class SkipLog:
    """Accounts for every file a load found: used, skipped (with reason) or outside the label set.

    ``min_samples``: clips shorter than this many samples at 16 kHz are skipped as "too short" (0: no
    minimum). Training and evaluation set it to the model CNN's receptive field
    (``hf_ser.models.receptive_field``), below which the CNN yields no frame.
    """

    def __init__(self, min_samples: int = 0) -> None:
        self.min_samples = int(min_samples)
        self.found = 0
        self.used = 0
        self.excluded_by_label_set = 0
        self.skipped: list[SkippedFile] = []

    def skip(self, path: str, reason: str, *, was_used: bool = False) -> None:
        """Record a skipped file. ``was_used`` moves a file already counted as used (late audio checks)."""
        self.skipped.append(SkippedFile(path=path, reason=reason))
        if was_used:
            self.used -= 1
        logger.warning("skipping %s: %s", path, reason)

    def reconciles(self) -> bool:
        return self.found == self.used + len(self.skipped) + self.excluded_by_label_set

    def to_dict(self) -> dict[str, Any]:
        return {
            "found": self.found,
            "used": self.used,
            "excluded_by_label_set": self.excluded_by_label_set,
            "skipped": [asdict(s) for s in self.skipped],
            # Reasons carry per-file details after " (" or ": " ("truncated: header 9 frames, ..."); count the kind.
            "reason_counts": dict(Counter(re.split(r" \(|: ", s.reason, maxsplit=1)[0] for s in self.skipped)),
        }

    def merge(self, other: SkipLog, prefix: str = "") -> None:
        self.found += other.found
        self.used += other.used
        self.excluded_by_label_set += other.excluded_by_label_set
        self.skipped.extend(SkippedFile(prefix + s.path, s.reason) for s in other.skipped)


def require_root(root: str | Path, corpus: str, expected: str) -> Path:
    """Fail at once when ``root`` does not exist, naming what the corpus root should contain."""
    path = Path(root).expanduser()
    if not path.is_dir():
        raise CorpusLayoutError(f"{corpus}: corpus root {path} does not exist or is not a folder. Expected: {expected}")
    return path.resolve()


def load_parsed(
    corpus: str,
    root: str | Path,
    parse: Callable[[Path], Iterable[Clip | SkippedFile]],
    *,
    expected: str,
    label_set: LabelSet = "all",
    label_map: Mapping[str, str | None] | None = None,
    skip_log: SkipLog | None = None,
) -> datasets.Dataset:
    """What every layout-parsing loader does: check the root, parse its layout, build the canonical dataset.

    Args:
        corpus: registry name.
        root: the corpus root as the user gave it.
        parse: yields the ``Clip`` / ``SkippedFile`` items of the resolved root.
        expected: the layout, named in the error when the root is missing or holds no audio.
    """
    path = require_root(root, corpus, expected)
    return build_dataset(
        corpus, path, parse(path), label_set=label_set, label_map=label_map, skip_log=skip_log, expected=expected
    )


def iter_files(root: Path, pattern: str, *, dangling: bool = True) -> Iterator[Path]:
    """Files under ``root`` whose name matches ``pattern`` case-insensitively (``*.wav`` finds ``a.WAV``), in
    sorted path order.

    Hidden files and folders (name starting with ``.``, AppleDouble ``._*`` included) and ``__MACOSX`` folders
    are not part of a corpus and are left out uncounted. Dangling symbolic links are yielded, so that the
    build reports them as skipped instead of losing them silently; ``dangling=False`` leaves them out (metadata
    files, which are read, not counted). Special files (FIFOs, devices, links to them) are yielded too, to be
    skipped with their reason.
    """
    pattern = pattern.lower()
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).parts
        if any(part.startswith(".") or part == "__MACOSX" for part in rel):
            continue
        if not fnmatch.fnmatchcase(p.name.lower(), pattern):
            continue
        if p.is_file() or (dangling and ((p.is_symlink() and not p.exists()) or _is_special(p))):
            yield p


def _is_special(path: Path) -> bool:
    """A FIFO, device or socket (or a link to one): yielded so that the build skips it with the reason
    (``hf_ser.audio.special_file_reason``, never opened) instead of leaving it out uncounted."""
    return not path.is_dir() and special_file_reason(path) is not None


def build_dataset(
    corpus: str,
    root: Path,
    items: Iterable[Clip | SkippedFile],
    *,
    label_set: LabelSet = "all",
    label_map: Mapping[str, str | None] | None = None,
    skip_log: SkipLog | None = None,
    expected: str = "",
) -> datasets.Dataset:
    """Turn parsed clips into a canonical ``datasets.Dataset``.

    Args:
        corpus: registry name, stored in the ``corpus`` column.
        root: corpus root (absolute); ``rel_path`` is relative to it.
        items: ``Clip`` records and ``SkippedFile`` entries from the corpus parser, in a stable order.
        label_set: label-set name or list of canonical labels.
        label_map: optional user map (see ``map_label``).
        skip_log: receives the counts and skipped files; a fresh one is used when ``None``.
        expected: layout description used in the error when nothing at all was found.

    Raises:
        CorpusLayoutError: no audio file at all was found under ``root``.
        GitLfsPointerError: a file is a git-lfs pointer (the whole corpus is unusable, so fail loudly).
    """
    resolve_label_set(label_set)  # fail early on a bad label set, before touching files
    log = skip_log if skip_log is not None else SkipLog()
    rows: dict[str, list] = {name: [] for name in FEATURES}
    seen: set[str] = set()
    headers = header_cache(root)  # headers recorded by an earlier load under the same cache are not read again
    for item in items:
        log.found += 1
        if isinstance(item, SkippedFile):
            log.skip(item.path, item.reason)
            continue
        rel = item.path.relative_to(root).as_posix()
        if item.utt_id in seen:
            # Repacks sometimes ship the same tree twice; the first USABLE copy wins (a copy is only entered in
            # `seen` once its header passed every check below).
            log.skip(rel, f"duplicate of utterance {item.utt_id}")
            continue
        label = map_label(item.emotion, item.orig_label, label_set, label_map)
        if label is None:
            log.excluded_by_label_set += 1
            continue
        try:
            info = headers.read_info(item.path)
        except AudioError as e:
            log.skip(rel, e.reason)
            continue
        if info.frames == 0:
            log.skip(rel, "empty audio (0 samples)")
            continue
        if log.min_samples:
            samples = info.frames * SAMPLE_RATE // info.sample_rate
            if samples < log.min_samples:
                log.skip(rel, f"too short: {samples} samples < {log.min_samples} (at 16 kHz; the model's CNN receptive field)")
                continue
        seen.add(item.utt_id)
        log.used += 1
        gender = item.gender if item.gender in GENDERS else "unknown"
        row = {
            "utt_id": item.utt_id,
            "corpus": corpus,
            "path": str(item.path),
            "rel_path": rel,
            "label": label,
            "orig_label": item.orig_label,
            "speaker": item.speaker,
            "gender": gender,
            "language": item.language,
            "text": item.text,
            "session": item.session,
            "split": item.split,
            "valence": item.valence,
            "arousal": item.arousal,
            "dominance": item.dominance,
            "duration_s": info.duration_s,
            "sample_rate": info.sample_rate,
            "meta": json.dumps(item.meta, sort_keys=True, ensure_ascii=False),
            "votes": vote_vector(item.votes, label_set, label_map),
            "n_raters": item.n_raters,
            "perceived_label": map_perceived(item.perceived, label_set, label_map),
        }
        for name in FEATURES:
            rows[name].append(row[name])
    headers.save()
    if log.found == 0:
        raise CorpusLayoutError(f"{corpus}: no audio files found under {root}. Expected: {expected}")
    return datasets.Dataset.from_dict(rows, features=FEATURES)
