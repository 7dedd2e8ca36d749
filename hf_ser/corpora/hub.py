"""Generic loader for corpora stored as ``datasets`` data: ``save_to_disk`` folders, parquet, or Hub repos.

Sources, told apart by what ``root`` is:

* a folder written by ``Dataset.save_to_disk`` / ``DatasetDict.save_to_disk`` (``state.json`` or
  ``dataset_dict.json`` inside): read with ``datasets.load_from_disk``; ``split`` picks the DatasetDict split.
* a ``.parquet`` file, or a folder of them (any depth). In a folder, files named ``<split>-*.parquet`` /
  ``<split>.parquet`` or under a ``<split>/`` folder are the ones used (the Hub's parquet layout); a folder
  whose files carry no split name is read whole.
* anything else that looks like ``owner/name`` and is not a local path: a Hub repo id, loaded with
  ``datasets.load_dataset(root, split=split)`` (needs the network, which hf_ser's machines do not have).

Audio: a column of file paths (``path_column``; relative paths are relative to the dataset folder) or an
``Audio`` column (``audio_column``). ``Audio`` columns are read with ``Audio(decode=False)`` because
``datasets`` decodes through torchcodec + FFmpeg, which hf_ser does not need (``hf_ser.audio`` decodes with
soundfile). Each value is then ``{"bytes": ..., "path": ...}``: embedded bytes are written once, verbatim, to
``cache_dir/<sha1 of the bytes>.<wav|flac|ogg|mp3>`` (content-addressed, so a re-run writes nothing), and a
value with only a ``path`` is used as a path. The rest of hf_ser therefore always sees files.

Columns: ``label_column`` (strings, or a ``ClassLabel`` whose names are used), ``speaker_column`` (``None``
when the data has no speakers: every clip is then speaker ``"unknown"``), ``utt_id_column`` (default: the
audio file's stem when those are unique, else the row index). Columns named ``gender``, ``language``,
``text``, ``session``, ``split``, ``valence``, ``arousal`` and ``dominance`` fill the schema fields of the
same name; every other scalar column goes into ``meta``. Without a ``split`` column, clips from a
DatasetDict split or a Hub split get that split's name. Labels are read as people write them
(a canonical label or a common spelling), and any other must be mapped or dropped by ``label_map``, exactly as in
``hf_ser.corpora.manifest``: an unmapped label stops the load before any audio is read.

The default cache is ``$HF_SER_CACHE/hub_audio`` (``~/.cache/hf_ser/hub_audio`` when unset).
License / source: those of the stored corpus; this module adds none.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
from datasets.table import InMemoryTable

from hf_ser.corpora._base import Clip, CorpusInfo, CorpusLayoutError, SkipLog, build_dataset
from hf_ser.corpora._labels import CANONICAL_LABELS, LabelSet
from hf_ser.corpora.manifest import clips_from_records, common_root
from hf_ser.fsutil import atomic_write_bytes

logger = logging.getLogger(__name__)

INFO = CorpusInfo(
    name="hub",
    title="Any corpus stored as a datasets dataset (save_to_disk, parquet or a Hub repo)",
    languages=(),
    labels=CANONICAL_LABELS,
    license="that of the stored corpus",
    url="https://huggingface.co/datasets",
    protocols=("speaker_kfold",),
)

SPLIT_NAMES = ("train", "validation", "valid", "dev", "test")
# First bytes of the formats soundfile reads -> file suffix for the cache.
MAGIC_SUFFIXES: tuple[tuple[bytes, str], ...] = (
    (b"RIFF", ".wav"),
    (b"RIFX", ".wav"),
    (b"fLaC", ".flac"),
    (b"OggS", ".ogg"),
    (b"ID3", ".mp3"),
    (b"\xff\xfb", ".mp3"),
    (b"\xff\xf3", ".mp3"),
)
EXPECTED = (
    "a save_to_disk folder, a .parquet file or folder of them, or a Hub repo id (owner/name), "
    "with an audio (or path) column and a label column"
)
_REPO_ID = re.compile(r"^[\w.-]+/[\w.-]+$")


def _default_cache_dir() -> Path:
    return Path(os.environ.get("HF_SER_CACHE", Path.home() / ".cache" / "hf_ser")).expanduser() / "hub_audio"


def _split_of(path: Path, root: Path, split: str) -> str | None:
    """The split a parquet file belongs to by the Hub's naming (folder or name prefix), else ``None``."""
    folders = path.relative_to(root).parts[:-1]
    for name in (split, *SPLIT_NAMES):
        if name in folders or path.name == f"{name}.parquet" or path.name.startswith(f"{name}-"):
            return name
    return None


def _parquet_files(root: Path, split: str) -> tuple[list[Path], bool]:
    """The parquet files to read for ``split`` and whether they were chosen by split name."""
    if root.is_file():
        return [root], False
    files = sorted(p for p in root.rglob("*.parquet") if not p.name.startswith("._"))
    splits = {p: _split_of(p, root, split) for p in files}
    chosen = [p for p in files if splits[p] == split]
    if chosen:
        return chosen, True
    if all(s is None for s in splits.values()):
        return files, False
    found = sorted({s for s in splits.values() if s})
    raise CorpusLayoutError(f"hub: no parquet files for split {split!r} under {root} (splits found: {found})")


def _open_local(root: Path, split: str) -> tuple[datasets.Dataset, str]:
    """The dataset at ``root`` and the split name its clips get when it has no split column."""
    if root.is_dir() and ((root / "state.json").is_file() or (root / "dataset_dict.json").is_file()):
        loaded = datasets.load_from_disk(str(root))
        if isinstance(loaded, datasets.DatasetDict):
            if split not in loaded:
                raise CorpusLayoutError(f"hub: split {split!r} not in {root}; splits: {sorted(loaded)}")
            return loaded[split], split
        return loaded, ""
    files, by_split = _parquet_files(root, split)
    if not files:
        raise CorpusLayoutError(
            f"hub: {root} holds no save_to_disk dataset and no parquet files. Expected: {EXPECTED}"
        )
    # pyarrow directly, not Dataset.from_parquet: no copy into the HF datasets cache; the features stored in
    # the parquet schema metadata (Audio, ClassLabel) come back through the Dataset constructor.
    table = pa.concat_tables([pq.read_table(str(f)) for f in files])
    return datasets.Dataset(InMemoryTable(table)), split if by_split else ""


def _open(root: str | Path, split: str) -> tuple[datasets.Dataset, str, Path | None]:
    """``(dataset, split name for its clips, local folder that relative paths resolve against)``."""
    local = Path(root).expanduser()
    if local.exists():
        local = local.resolve()
        ds, split_name = _open_local(local, split)
        return ds, split_name, local if local.is_dir() else local.parent
    if not _REPO_ID.match(str(root)):
        raise CorpusLayoutError(
            f"hub: {root} is neither a local path nor a Hub repo id. Expected: {EXPECTED}"
        )
    try:
        ds = datasets.load_dataset(str(root), split=split)
    except Exception as e:  # offline, gated, missing: the datasets error says which
        raise CorpusLayoutError(f"hub: could not load Hub dataset {root!r} split {split!r}: {e}") from e
    return ds, split, None


def _audio_suffix(data: bytes, name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in (".wav", ".flac", ".ogg", ".mp3"):
        return suffix
    for magic, magic_suffix in MAGIC_SUFFIXES:
        if data.startswith(magic):
            return magic_suffix
    return ".wav"


def _materialise(data: bytes, name: str, cache_dir: Path) -> Path:
    """Write embedded audio bytes once to the content-addressed cache and return the file."""
    target = cache_dir / f"{hashlib.sha1(data).hexdigest()}{_audio_suffix(data, name)}"
    if not (target.is_file() and target.stat().st_size == len(data)):
        atomic_write_bytes(target, data)  # concurrent processes never see half a file
    return target


def _resolve_audio(value: Any, base_dir: Path | None, cache_dir: Path) -> tuple[str, str, bool]:
    """``(path for the clip, source name, whether it was embedded)`` from a path or ``{"bytes", "path"}``."""
    if isinstance(value, Mapping):
        name = value.get("path") or ""
        if value.get("bytes"):
            return str(_materialise(value["bytes"], name, cache_dir)), name, True
        value = name
    written = str(value or "")
    if not written:
        return "", "", False
    path = Path(written).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return str(path), written, False


def _records(
    ds: datasets.Dataset,
    *,
    audio_key: str,
    label_column: str,
    speaker_column: str | None,
    utt_id_column: str | None,
    split_name: str,
    base_dir: Path | None,
    cache_dir: Path,
) -> Iterator[tuple[str, dict[str, Any]]]:
    label_feature = ds.features[label_column]
    # Audio first, row by row, so embedded bytes are never all in memory at once.
    sources = [_resolve_audio(row[audio_key], base_dir, cache_dir) for row in ds.select_columns([audio_key])]
    rows = ds.remove_columns([audio_key])
    stems = [Path(name).stem for _, name, _ in sources]
    stems_unique = all(stems) and len(set(stems)) == len(stems)
    for index, (row, (path, name, embedded)) in enumerate(zip(rows, sources)):
        label = row[label_column]
        if isinstance(label_feature, datasets.ClassLabel) and isinstance(label, int) and label >= 0:
            label = label_feature.int2str(label)
        record: dict[str, Any] = {
            k: v for k, v in row.items() if k not in (audio_key, label_column, speaker_column, utt_id_column)
        }
        record.setdefault("split", split_name)
        record.update(
            path=path,
            label="" if label is None else str(label),
            speaker=str(row[speaker_column]) if speaker_column else "unknown",
            utt_id=str(row[utt_id_column])
            if utt_id_column
            else (stems[index] if stems_unique else f"{index:06d}"),
        )
        if embedded and name:
            record["source_path"] = name  # the file name the bytes had when they were stored
        yield f"row {index}", record


def load_hub(
    root: str | Path,
    *,
    label_set: LabelSet = "all",
    label_map: Mapping[str, str | None] | None = None,
    skip_log: SkipLog | None = None,
    split: str = "train",
    audio_column: str = "audio",
    path_column: str | None = None,
    label_column: str = "label",
    speaker_column: str | None = "speaker",
    utt_id_column: str | None = None,
    cache_dir: str | Path | None = None,
    corpus_name: str = "hub",
) -> datasets.Dataset:
    """Load a corpus stored as a ``datasets`` dataset into the canonical schema.

    Args:
        root: a ``save_to_disk`` folder, a parquet file or folder, or a Hub repo id.
        label_set: label-set name or list of canonical labels.
        label_map: map from the stored labels (or canonical labels) to canonical labels or ``None``.
        skip_log: receives the row accounting (one row = one found file).
        split: DatasetDict / parquet / Hub split to load.
        audio_column: ``Audio`` (or ``{"bytes", "path"}`` / path string) column; ignored with ``path_column``.
        path_column: column of audio file paths, used instead of ``audio_column``.
        label_column: emotion label column (strings or ``ClassLabel``).
        speaker_column: speaker id column, or ``None`` when the data has none.
        utt_id_column: utterance id column; default the audio file stem (when unique) or the row index.
        cache_dir: where embedded audio bytes are written (default ``$HF_SER_CACHE/hub_audio``).
        corpus_name: value of the ``corpus`` column.

    Returns:
        The canonical clip dataset, with ``path`` pointing at real files.

    Raises:
        CorpusLayoutError: nothing loadable at ``root``, an unknown split, or a named column is missing.
    """
    ds, split_name, base_dir = _open(root, split)
    audio_key = path_column or audio_column
    wanted = [c for c in (audio_key, label_column, speaker_column, utt_id_column) if c]
    missing = [c for c in wanted if c not in ds.column_names]
    if missing:
        raise CorpusLayoutError(f"hub: {root} lacks columns {missing}; columns: {ds.column_names}")
    if isinstance(ds.features[audio_key], datasets.Audio):
        ds = ds.cast_column(audio_key, datasets.Audio(decode=False))
    cache = Path(cache_dir).expanduser() if cache_dir is not None else _default_cache_dir()
    records = _records(
        ds,
        audio_key=audio_key,
        label_column=label_column,
        speaker_column=speaker_column,
        utt_id_column=utt_id_column,
        split_name=split_name,
        base_dir=base_dir,
        cache_dir=cache.resolve(),
    )
    anchor = base_dir or cache.resolve()
    items = clips_from_records(records, anchor, label_map=label_map, corpus=corpus_name)
    root_dir = common_root((item.path for item in items if isinstance(item, Clip)), anchor)
    return build_dataset(
        corpus_name,
        root_dir,
        items,
        label_set=label_set,
        label_map=label_map,
        skip_log=skip_log,
        expected=EXPECTED,
    )
