"""Load a corpus once: the canonical dataset and its skip accounting, cached until the corpus folder changes.

A corpus loader reads every audio header (git-lfs check, ``sf.info``) to fill ``duration_s`` and
``sample_rate`` and to skip unreadable files: ~0.5 ms a file, so 50 s at 100k clips on every run. Here the
loader's result is saved (Arrow, memory-mapped on reload) under ``cache_root/corpora/<key>/`` and reused while
the key is unchanged. The key covers the corpus name, the resolved root, the loader options, label set and
label map, the source of ``hf_ser.corpora`` (a loader fix reloads), and the root's signature:

* a folder root: the sorted names of every file below it (one directory walk), the size and mtime of every
  audio file (a ``stat``, never an open) plus the content of every non-audio file up to 32 MB (label files,
  transcripts, manifests) and the size and mtime of larger ones (videos);
* a file root (a manifest file): its bytes.

So adding, removing, renaming or rewriting a clip, or editing a label file or manifest, reloads (the audio
store keys on each file's content, see ``hf_ser.data.store``). Roots that are not local paths (``hub`` repo ids) are never
cached. Concurrent callers are serialised per key with the audio store's file lock; one loads, the others reuse.

A miss (another shortest-input option, label set or label map; a changed root) still reads no header that an
earlier load under the same ``cache_root`` read: headers are recorded per file under ``cache_root/headers/``
(``header_folder``; keyed on path, size and mtime, see ``hf_ser.corpora._headers``), so a store build or
``hf-ser corpora inspect`` followed by a run reads each header once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import datasets

import hf_ser.corpora as corpora_pkg
from hf_ser.corpora import LabelSet, SkipLog, SkippedFile, load_corpus
from hf_ser.data.store import exclusive_lock
from hf_ser.fsutil import fsync_tree, make_temp_dir, remove_stale_temps

logger = logging.getLogger(__name__)

CACHE_VERSION = 1
AUDIO_SUFFIXES = frozenset(
    {".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aac", ".aif", ".aiff", ".sph", ".webm", ".wma"}
)
_HASH_LIMIT = 32 * 2**20
_DATASET = "dataset"
_LOG = "skip_log.json"


def root_signature(root: str | Path) -> str | None:
    """Cheap identity of a corpus root (see the module docstring); ``None`` when it is not a local path."""
    path = Path(root).expanduser()
    digest = hashlib.sha256()
    if path.is_file():
        digest.update(path.read_bytes())
        return digest.hexdigest()
    if not path.is_dir():
        return None
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel_dir = os.path.relpath(dirpath, path)
        for name in sorted(filenames):
            rel = f"{rel_dir}/{name}"
            digest.update(rel.encode("utf-8", "surrogateescape") + b"\0")
            full = os.path.join(dirpath, name)
            if os.path.splitext(name)[1].lower() in AUDIO_SUFFIXES:
                # Size and mtime (one stat, no open): a replaced clip is read again, its header with it.
                try:
                    st = os.lstat(full)
                    digest.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
                except OSError:
                    digest.update(b"unreadable")
                continue
            try:
                st = os.stat(full)
                if st.st_size <= _HASH_LIMIT:
                    with open(full, "rb") as f:
                        digest.update(hashlib.sha256(f.read()).digest())
                else:
                    digest.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
            except OSError:
                digest.update(b"unreadable")
    return digest.hexdigest()


def header_folder(cache_root: str | Path) -> Path:
    """Where corpus loads under ``cache_root`` record the audio headers they read."""
    return Path(cache_root).expanduser() / "headers"


def _loader_source() -> str:
    digest = hashlib.sha256()
    for source in sorted(Path(corpora_pkg.__file__).parent.glob("*.py")):
        digest.update(source.name.encode() + source.read_bytes())
    return digest.hexdigest()


def load_corpus_cached(
    name: str,
    root: str | Path,
    cache_root: str | Path,
    *,
    label_set: LabelSet = "all",
    label_map: Mapping[str, str | None] | None = None,
    **options: Any,
) -> tuple[datasets.Dataset, SkipLog]:
    """``hf_ser.corpora.load_corpus``, reusing the saved result while the corpus is unchanged."""
    signature = root_signature(root)
    if signature is None:
        return load_corpus(name, root, label_set=label_set, label_map=label_map, **options)
    resolved = str(Path(root).expanduser().resolve())
    key_text = json.dumps(
        [CACHE_VERSION, name, resolved, options, label_set, label_map, signature, _loader_source()],
        sort_keys=True, default=str,
    )
    key = hashlib.sha256(key_text.encode()).hexdigest()[:20]
    folder = Path(cache_root).expanduser() / "corpora"
    directory = folder / key
    if not (directory / _LOG).is_file():
        with exclusive_lock(folder / f"{key}.lock") as locked:
            if not (directory / _LOG).is_file():
                if locked:  # no other loader of this key is alive: a temporary folder was left by a kill
                    remove_stale_temps(folder, key)
                dataset, log = load_corpus(
                    name, root, label_set=label_set, label_map=label_map, header_cache=header_folder(cache_root),
                    **options,
                )
                _save(directory, dataset, log)
                return dataset, log
    logger.info("%s: reusing the loaded corpus %s (the root is unchanged)", name, directory)
    with open(directory / _LOG, encoding="utf-8") as f:
        saved = json.load(f)
    log = SkipLog()
    log.found, log.used, log.excluded_by_label_set = saved["found"], saved["used"], saved["excluded_by_label_set"]
    log.skipped = [SkippedFile(s["path"], s["reason"]) for s in saved["skipped"]]
    return datasets.load_from_disk(str(directory / _DATASET)), log


def _save(directory: Path, dataset: datasets.Dataset, log: SkipLog) -> None:
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = make_temp_dir(directory.parent, directory.name)
    try:
        quiet = not datasets.is_progress_bar_enabled()
        datasets.disable_progress_bars()  # a bar per save would clutter every first run
        try:
            dataset.save_to_disk(str(tmp / _DATASET))
        finally:
            if not quiet:
                datasets.enable_progress_bars()
        with open(tmp / _LOG, "w", encoding="utf-8") as f:
            json.dump(log.to_dict(), f)
        fsync_tree(tmp)
        try:
            os.rename(tmp, directory)
        except OSError:
            if not (directory / _LOG).is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
