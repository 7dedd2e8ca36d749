"""Generic manifest loader: any corpus described by a CSV or JSON-lines file.

Use it for a corpus hf_ser has no module for, or for a prepared subset.

Layout: ``root`` is the manifest file itself, or a folder holding ``manifest.csv`` or ``manifest.jsonl``
(exactly one of them). Accepted formats, chosen by suffix: ``.csv`` (comma), ``.tsv`` (tab), ``.jsonl`` /
``.json`` (one JSON object per line).

Columns (one row per clip):

* required: ``path`` (relative to the manifest's folder, or absolute), ``label``, and ``speaker`` unless the
  manifest has a ``split`` column (then clips without a speaker are speaker ``"unknown"``) or the corpus entry
  says ``options: {speakers: unknown}`` (reports then say "speakers unknown": no split can be speaker-independent).
* optional: ``gender`` (male/female/m/f, anything else ``"unknown"``), ``language`` (ISO 639-1),
  ``text``, ``session``, ``split`` (``train``, ``valid`` / ``dev`` / ``validation``, ``test``: the
  ``predefined`` protocol trains on it), ``valence``, ``arousal``, ``dominance`` (floats, blank -> NaN) and
  ``utt_id`` (default: the path relative to the manifest folder, without suffix, e.g. ``spk1/a01``).
* any other column goes into ``meta``.

Labels: as people write them (case-insensitive): a canonical name (``anger``) or a common spelling (``angry``,
``happy``, ``ang``, ...: ``hf_ser.corpora._labels.SPELLINGS``); ``label_map`` maps (or, with ``null``, drops) any
other (``{"bored_maybe": None}``). A label that is neither stops the load before any audio is read, naming
each such label with its count (``UnknownLabelsError``). ``orig_label`` keeps the label as written.

Accounting: every row counts as one found file. Rows whose audio file is missing, or that lack a required
value, are skipped with a reason (path as written in the manifest, or ``<manifest>:line N``); an empty
``speaker`` becomes ``"unknown"``.

``rel_path`` is relative to the manifest's folder; when absolute paths point outside it, the corpus root
becomes the deepest folder holding every clip. ``corpus`` is ``"manifest"`` unless ``corpus_name`` is given.

License / source: whatever the described corpus has; this module adds none.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets

from hf_ser.corpora._base import Clip, CorpusInfo, CorpusLayoutError, SkipLog, SkippedFile, build_dataset
from hf_ser.corpora._labels import CANONICAL_LABELS, LabelSet, refuse_unknown_labels, spelled_label

INFO = CorpusInfo(
    name="manifest",
    title="Any corpus described by a CSV / JSON-lines manifest",
    languages=(),
    labels=CANONICAL_LABELS,
    license="that of the described corpus",
    url="",
    protocols=("speaker_kfold",),
)

REQUIRED_COLUMNS = ("path", "label", "speaker")
SPEAKERS = ("column", "unknown")  # the ``speakers`` option: read the speaker column, or accept that there is none
TEXT_COLUMNS = ("language", "text", "session", "split")
FLOAT_COLUMNS = ("valence", "arousal", "dominance")
KNOWN_COLUMNS = frozenset(REQUIRED_COLUMNS + TEXT_COLUMNS + FLOAT_COLUMNS + ("gender", "utt_id"))
MANIFEST_NAMES = ("manifest.csv", "manifest.jsonl")
GENDERS: dict[str, str] = {
    "male": "male",
    "m": "male",
    "man": "male",
    "female": "female",
    "f": "female",
    "woman": "female",
}
EXPECTED = (
    "a manifest file (.csv/.tsv/.jsonl) or a folder with manifest.csv or manifest.jsonl; columns path, label, "
    "speaker (optional: split, gender, valence, arousal, dominance, ...)"
)
NO_SPEAKERS_FIX = (
    "add a speaker column (splits keep each speaker on one side), or a split column, or accept unknown "
    "speakers in the recipe's corpus entry: options: {speakers: unknown}"
)


class NoSpeakersError(CorpusLayoutError):
    """Your data names no speaker and carries no split: refused until the recipe accepts unknown speakers."""


def common_root(paths: Iterable[Path], preferred: Path) -> Path:
    """``preferred`` when every path lies under it, else the deepest folder holding ``preferred`` and all paths."""
    paths = list(paths)
    if all(p.is_relative_to(preferred) for p in paths):
        return preferred
    return Path(os.path.commonpath([str(preferred), *(str(p.parent) for p in paths)]))


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _float(value: Any) -> float:
    try:
        return float(value) if _text(value) else math.nan
    except (TypeError, ValueError):
        return math.nan


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


@dataclass(frozen=True)
class _UnknownLabel(SkippedFile):
    """A row whose label maps to nothing: collected by ``clips_from_records``, which refuses the load."""

    label: str = ""


def _record_to_item(
    record: Mapping[str, Any], ref: str, base_dir: Path, label_map: Mapping[str, str | None] | None
) -> Clip | SkippedFile:
    missing = [c for c in ("path", "label") if not _text(record.get(c))]
    if missing:
        return SkippedFile(ref, f"missing value for {missing}")
    written = _text(record["path"])
    path = Path(written).expanduser()
    path = (path if path.is_absolute() else base_dir / path).resolve()
    if not path.is_file():
        return SkippedFile(written, "missing file")
    label = _text(record["label"])
    if label_map and label in label_map:
        emotion = label  # map_label applies label_map[orig] in build_dataset
    else:
        emotion = spelled_label(label)
        if emotion is None:
            return _UnknownLabel(written, f"unknown label {label!r}", label)
    utt_id = _text(record.get("utt_id"))
    if not utt_id:
        utt_id = (
            path.relative_to(base_dir).with_suffix("").as_posix()
            if path.is_relative_to(base_dir)
            else path.stem
        )
    return Clip(
        path=path,
        utt_id=utt_id,
        emotion=emotion,
        orig_label=label,
        speaker=_text(record.get("speaker")) or "unknown",
        gender=GENDERS.get(_text(record.get("gender")).lower(), "unknown"),
        **{c: _text(record.get(c)) for c in TEXT_COLUMNS},
        **{c: _float(record.get(c)) for c in FLOAT_COLUMNS},
        meta={k: _json_safe(v) for k, v in record.items() if k not in KNOWN_COLUMNS and _text(v)},
    )


def clips_from_records(
    records: Iterable[tuple[str, Mapping[str, Any]]],
    base_dir: Path,
    *,
    label_map: Mapping[str, str | None] | None = None,
    corpus: str = "manifest",
) -> list[Clip | SkippedFile]:
    """Turn manifest-style records into clips (shared by the manifest, audiofolder and hub loaders).

    Args:
        records: ``(reference, record)`` pairs; the reference names the row in skip reasons when it has no
            usable path (e.g. ``"manifest.csv:line 7"``). Keys as in the module docstring.
        base_dir: folder that relative paths (and default utterance ids) are relative to (absolute).
        label_map: the user's label map, used to accept (or drop) labels that are no known spelling.
        corpus: named in the error on unknown labels.

    Returns:
        One ``Clip`` or ``SkippedFile`` per record, in order.

    Raises:
        UnknownLabelsError: a label is no known spelling and not in ``label_map`` (checked before any audio).
    """
    items = [_record_to_item(record, ref, base_dir, label_map) for ref, record in records]
    unknown = Counter(item.label for item in items if isinstance(item, _UnknownLabel))
    refuse_unknown_labels(corpus, unknown)
    return items


def _find_manifest(root: Path) -> Path:
    if root.is_file():
        return root
    if not root.is_dir():
        raise CorpusLayoutError(f"manifest: {root} does not exist. Expected: {EXPECTED}")
    found = [root / name for name in MANIFEST_NAMES if (root / name).is_file()]
    if len(found) != 1:
        what = "both" if found else "neither"
        raise CorpusLayoutError(
            f"manifest: {root} holds {what} of {list(MANIFEST_NAMES)}. Expected: {EXPECTED}"
        )
    return found[0]


def _check_speakers(path: Path, columns: Iterable[str], speakers: str) -> None:
    """Refuse a manifest that names no speakers (and no split) unless the user accepted unknown speakers."""
    if speakers not in SPEAKERS:
        raise CorpusLayoutError(f"manifest: options.speakers must be one of {list(SPEAKERS)}, got {speakers!r}")
    columns = set(columns)
    if speakers == "column" and "speaker" not in columns and "split" not in columns:
        raise NoSpeakersError(f"manifest: {path.name} has no speaker column: {NO_SPEAKERS_FIX}")


def _read_records(path: Path, speakers: str = "column") -> Iterator[tuple[str, dict[str, Any]]]:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f, delimiter="\t" if suffix == ".tsv" else ",")
            missing = [c for c in ("path", "label") if c not in (reader.fieldnames or [])]
            if missing:
                raise CorpusLayoutError(
                    f"manifest: {path.name} lacks columns {missing}. Expected: {EXPECTED}"
                )
            _check_speakers(path, reader.fieldnames or [], speakers)
            # line numbers count the header as line 1, as an editor shows them
            for line, row in enumerate(reader, start=2):
                yield f"{path.name}:line {line}", {k: v for k, v in row.items() if k is not None}
    elif suffix in (".jsonl", ".json"):
        columns: set[str] = set()
        with open(path, encoding="utf-8-sig") as f:
            for line, text in enumerate(f, start=1):
                if not text.strip():
                    continue
                try:
                    record = json.loads(text)
                except json.JSONDecodeError as e:
                    raise ValueError(f"manifest: {path.name}:line {line} is not valid JSON ({e})") from e
                if not isinstance(record, dict):
                    raise ValueError(f"manifest: {path.name}:line {line} is not a JSON object")
                columns.update(record)
                yield f"{path.name}:line {line}", record
        # JSON lines declare no header: check the keys every line used, once all are read (before any audio).
        _check_speakers(path, columns, speakers)
    else:
        raise CorpusLayoutError(f"manifest: unsupported manifest type {path.name}. Expected: {EXPECTED}")


def load_manifest(
    root: str | Path,
    *,
    label_set: LabelSet = "all",
    label_map: Mapping[str, str | None] | None = None,
    skip_log: SkipLog | None = None,
    corpus_name: str = "manifest",
    speakers: str = "column",
) -> datasets.Dataset:
    """Load the clips a CSV / JSON-lines manifest describes.

    Args:
        root: the manifest file, or a folder holding ``manifest.csv`` or ``manifest.jsonl``.
        label_set: label-set name or list of canonical labels.
        label_map: map from the manifest's labels (or canonical labels) to canonical labels or ``None``.
        skip_log: receives the row accounting.
        corpus_name: value of the ``corpus`` column (name the described corpus to keep speakers apart when
            mixing several manifests).
        speakers: ``column`` (read ``speaker``; a manifest without speaker and split columns is refused) or
            ``unknown`` (every clip without a speaker is speaker ``"unknown"``).

    Returns:
        The canonical clip dataset.

    Raises:
        CorpusLayoutError: no manifest, an unsupported type, or missing required columns.
        UnknownLabelsError: a label that maps to nothing (before any audio is read).
    """
    manifest = _find_manifest(Path(root).expanduser().resolve())
    base_dir = manifest.parent
    items = clips_from_records(_read_records(manifest, speakers), base_dir, label_map=label_map, corpus=corpus_name)
    root_dir = common_root((item.path for item in items if isinstance(item, Clip)), base_dir)
    return build_dataset(
        corpus_name,
        root_dir,
        items,
        label_set=label_set,
        label_map=label_map,
        skip_log=skip_log,
        expected=EXPECTED,
    )
