"""Audio headers read once: every file's header facts kept on disk, keyed on its path, size and mtime.

``build_dataset`` reads the header of every clip it keeps (dangling-link and git-lfs checks, ``sf.info``, the
WAV length check): about 0.5 ms a file, about a minute at 100k clips. The loaded-corpus cache
(``hf_ser.data.corpus_cache``) saves a loader's result, but only under its exact options: a store build or
``hf-ser corpora inspect`` (no shortest-input option) followed by a training run (the model's shortest input)
read every header twice. Inside ``recorded_headers(folder)`` (``load_corpus(..., header_cache=folder)``),
``build_dataset`` looks each file up in ``folder/<hash of the corpus root>.json`` first and records what it
had to read, so whichever loads a corpus first (inspect, a store build, a run) reads its headers and every
later load under the same cache folder only ``stat``-s the files.

An entry is used only while the file's size and modification time (ns) are those recorded; any edit, copy
without mtimes or replacement reads the header again. Only readable headers are recorded: an unreadable,
truncated, dangling or git-lfs file is checked again on every load and reported as before. The record is
JSON (never unpickled), written atomically (``hf_ser.fsutil.atomic_write_text``); two processes saving at once lose at
most each other's new entries (read again next time), never a valid file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

from hf_ser.audio import AudioInfo, read_info
from hf_ser.fsutil import atomic_write_text

HEADERS_VERSION = 1
_FOLDER: ContextVar[Path | None] = ContextVar("hf_ser_header_cache_folder", default=None)


class HeaderCache:
    """The recorded headers of the files under one corpus root (``path -> [size, mtime_ns, rate, frames,
    channels]``); ``file=None`` records nothing (every header is read)."""

    def __init__(self, file: Path | None):
        self.file = file
        self.entries: dict[str, list[int]] = {}
        self.reads = 0  # headers read from files by this object (the rest came from the record)
        if file is not None and file.is_file():
            try:
                saved = json.loads(file.read_text(encoding="utf-8"))
                if saved.get("version") == HEADERS_VERSION:
                    self.entries = saved["files"]
            except (OSError, ValueError, KeyError, AttributeError):
                self.entries = {}  # a damaged record only costs the reads it would have saved

    def read_info(self, path: str | Path) -> AudioInfo:
        """``hf_ser.audio.read_info(path)``, from the record while the file's size and mtime are unchanged."""
        name = str(path)
        try:
            st = os.stat(name)
        except OSError:
            return read_info(path)  # missing or dangling: read_info names the reason
        entry = self.entries.get(name)
        if entry is not None and entry[0] == st.st_size and entry[1] == st.st_mtime_ns:
            return AudioInfo(sample_rate=entry[2], frames=entry[3], channels=entry[4])
        info = read_info(path)  # raises for unusable files: those are never recorded
        self.reads += 1
        self.entries[name] = [st.st_size, st.st_mtime_ns, info.sample_rate, info.frames, info.channels]
        return info

    def save(self) -> None:
        """Write the record when this object read any header (atomic; nothing to do otherwise)."""
        if self.file is None or not self.reads:
            return
        self.file.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.file, json.dumps({"version": HEADERS_VERSION, "files": self.entries}))


@contextlib.contextmanager
def recorded_headers(folder: str | Path | None) -> Iterator[None]:
    """Within the block, corpus loads use and extend the header records under ``folder`` (``None``: off)."""
    token = _FOLDER.set(Path(folder).expanduser() if folder is not None else None)
    try:
        yield
    finally:
        _FOLDER.reset(token)


def header_cache(root: str | Path) -> HeaderCache:
    """The header record of corpus ``root`` in the active folder (``recorded_headers``), or one that records
    nothing outside such a block."""
    folder = _FOLDER.get()
    if folder is None:
        return HeaderCache(None)
    resolved = str(Path(root).expanduser().resolve())
    return HeaderCache(folder / f"{hashlib.sha256(resolved.encode()).hexdigest()[:20]}.json")
