"""Prepare once: decode, resample and check every clip a single time into a memory-mapped 16 kHz store.

The HF audio-classification example decodes and resamples every clip again on every epoch; here
``AudioStore.prepare`` decodes each file once through ``hf_ser.audio.load_audio`` (from the file's own header
rate), drops unreadable, empty and silent clips, and writes all samples into one flat float32 ``.npy`` that
training reads as zero-copy memory-mapped views.

Cache layout (``cache_root/<fingerprint>/``)::

    audio.npy    float32, shape (total_samples,): every kept clip back to back
    index.json   format version, settings, [key, offset, length] per kept clip, skipped clips with reasons

The fingerprint covers every file's (rel_path, size, mtime_ns), the clip keys, the sample rate, the silence
threshold and ``FORMAT_VERSION``, so touching a file or changing a setting gives a new cache and an unchanged
corpus decodes nothing. float32, not int16 with a scale: ``get`` then returns the exact ``load_audio`` output
as a view with no per-read conversion; the cost is twice the disk (64 KB per audio-second).

A cache is written into a private temporary folder and renamed into place, so a killed prepare never leaves a
half cache and a second concurrent writer only wastes its own work (the first rename wins). Old fingerprints
are never deleted automatically; remove ``cache_root`` to reclaim space.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import struct
import tempfile
from pathlib import Path
from typing import Any

import datasets
import numpy as np
from tqdm.auto import tqdm

from hf_ser import audio
from hf_ser.corpora._base import SkipLog, SkippedFile

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
_AUDIO = "audio.npy"
_INDEX = "index.json"
# Fixed .npy header length (a multiple of 64, as the format asks): the header is written last, once the total
# sample count is known, so the samples stream straight to disk in one pass.
_NPY_HEADER_BYTES = 128


def default_cache_root() -> Path:
    """``$HF_SER_CACHE`` when set, else ``~/.cache/hf_ser``."""
    return Path(os.environ.get("HF_SER_CACHE") or "~/.cache/hf_ser").expanduser()


def store_key(corpus: str, utt_id: str) -> str:
    """The store key of a clip: ``f"{corpus}/{utt_id}"`` (the same as ``hf_ser.splits.clip_key``)."""
    return f"{corpus}/{utt_id}"


class AudioStore:
    """Read access to a prepared store: ``get(key) -> (samples,)`` float32 at ``sample_rate``."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        with open(self.directory / _INDEX, encoding="utf-8") as f:
            index = json.load(f)
        if index.get("format") != FORMAT_VERSION:
            raise ValueError(f"{self.directory}: store format {index.get('format')}, expected {FORMAT_VERSION}")
        self.sample_rate: int = int(index["sample_rate"])
        self.silence_peak: float = float(index["silence_peak"])
        self.fingerprint: str = self.directory.name
        self._spans: dict[str, tuple[int, int]] = {key: (int(off), int(n)) for key, off, n in index["clips"]}
        self.skipped: tuple[tuple[str, SkippedFile], ...] = tuple(
            (s["key"], SkippedFile(s["path"], s["reason"])) for s in index["skipped"]
        )
        self._audio: np.ndarray | None = None

    @classmethod
    def prepare(
        cls,
        dataset: datasets.Dataset,
        cache_root: str | Path,
        *,
        sample_rate: int = audio.TARGET_SR,
        silence_peak: float = audio.SILENCE_PEAK,
        skip_log: SkipLog | None = None,
        progress: bool = True,
    ) -> tuple[AudioStore, datasets.Dataset]:
        """Decode every clip of ``dataset`` once (or reuse the cache) and drop the unusable ones.

        Args:
            dataset: canonical schema; ``path`` is read, ``corpus/utt_id`` is the key, ``rel_path`` is reported.
            cache_root: folder holding one sub-folder per fingerprint (see ``default_cache_root``).
            sample_rate: rate of the stored samples; every file is resampled from its own header rate.
            silence_peak: clips whose absolute peak stays below this are dropped as silent.
            skip_log: receives each dropped clip as ``skip(rel_path, reason, was_used=True)``, the same on a
                cache hit; paths get a ``corpus/`` prefix when the dataset mixes corpora.
            progress: show a tqdm bar while decoding.

        Returns:
            ``(store, kept)``: the store and ``dataset`` without the dropped rows (order kept).

        Raises:
            GitLfsPointerError: a file is a git-lfs pointer (the corpus is unusable as a whole).
            ValueError: two rows share a key.
        """
        keys = [store_key(c, u) for c, u in zip(dataset["corpus"], dataset["utt_id"])]
        if len(set(keys)) != len(keys):
            dupes = sorted({k for k in keys if keys.count(k) > 1})[:5]
            raise ValueError(f"clip keys must be unique (corpus/utt_id); duplicated: {dupes}")
        paths = list(dataset["path"])
        rel_paths = list(dataset["rel_path"])
        root = Path(cache_root).expanduser()
        fingerprint = _fingerprint(keys, paths, rel_paths, sample_rate, silence_peak)
        directory = root / fingerprint
        if (directory / _INDEX).is_file():
            logger.info("audio store: reusing %s (%d clips)", directory, len(keys))
        else:
            _build(directory, keys, paths, rel_paths, sample_rate, silence_peak, progress)
        store = cls(directory)
        skipped = {key for key, _ in store.skipped}
        if skip_log is not None:
            prefix = len(set(dataset["corpus"])) > 1
            for key, item in store.skipped:
                path = f"{key.split('/', 1)[0]}/{item.path}" if prefix else item.path
                skip_log.skip(path, item.reason, was_used=True)
        kept = [i for i, key in enumerate(keys) if key not in skipped]
        return store, (dataset if len(kept) == len(keys) else dataset.select(kept))

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self._spans)

    def __len__(self) -> int:
        return len(self._spans)

    def __contains__(self, key: object) -> bool:
        return key in self._spans

    def num_samples(self, key: str) -> int:
        """Length of clip ``key`` in samples at ``sample_rate``."""
        return self._span(key)[1]

    def duration_s(self, key: str) -> float:
        return self.num_samples(key) / self.sample_rate

    def get(self, key: str) -> np.ndarray:
        """The samples of clip ``key``: ``(samples,)`` float32, a read-only view (copy before editing)."""
        offset, length = self._span(key)
        return self._samples()[offset : offset + length]

    def _span(self, key: str) -> tuple[int, int]:
        try:
            return self._spans[key]
        except KeyError:
            raise KeyError(f"clip {key!r} is not in the audio store {self.directory}") from None

    def _samples(self) -> np.ndarray:
        # Opened lazily (and dropped when pickled) so DataLoader workers map the file instead of copying it.
        if self._audio is None:
            total = sum(n for _, n in self._spans.values())
            self._audio = np.load(self.directory / _AUDIO, mmap_mode="r") if total else np.zeros(0, np.float32)
        return self._audio

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_audio"] = None
        return state


def _fingerprint(
    keys: list[str], paths: list[str], rel_paths: list[str], sample_rate: int, silence_peak: float
) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([FORMAT_VERSION, sample_rate, repr(float(silence_peak))]).encode())
    for key, path, rel in sorted(zip(keys, paths, rel_paths)):
        try:
            st = os.stat(path)
            size, mtime = st.st_size, st.st_mtime_ns
        except OSError:
            size, mtime = -1, -1  # a missing file is fingerprinted too: it is skipped, and appearing changes it
        digest.update(f"{key}\0{rel}\0{size}\0{mtime}\n".encode())
    return digest.hexdigest()[:20]


def _npy_header(total: int) -> bytes:
    body = f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({total},), }}"
    body = body.ljust(_NPY_HEADER_BYTES - 10 - 1) + "\n"  # magic 6 + version 2 + length 2 bytes precede it
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(body)) + body.encode("latin1")


def _build(
    directory: Path,
    keys: list[str],
    paths: list[str],
    rel_paths: list[str],
    sample_rate: int,
    silence_peak: float,
    progress: bool,
) -> None:
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{directory.name}-", dir=directory.parent))
    try:
        clips: list[list[Any]] = []
        skipped: list[dict[str, str]] = []
        offset = 0
        with open(tmp / _AUDIO, "wb") as out:
            out.write(b"\0" * _NPY_HEADER_BYTES)
            for key, path, rel in tqdm(
                list(zip(keys, paths, rel_paths)), disable=not progress, desc="decoding audio", unit="clip"
            ):
                try:
                    wave, _ = audio.load_audio(path, target_sr=sample_rate)
                except audio.AudioError as e:
                    skipped.append({"key": key, "path": rel, "reason": e.reason})
                    continue
                reason = audio.silence_reason(wave, silence_peak)
                if reason is not None:
                    skipped.append({"key": key, "path": rel, "reason": reason})
                    continue
                out.write(np.ascontiguousarray(wave, dtype="<f4").tobytes())
                clips.append([key, offset, int(wave.size)])
                offset += int(wave.size)
            out.seek(0)
            out.write(_npy_header(offset))
        index = {
            "format": FORMAT_VERSION,
            "sample_rate": sample_rate,
            "silence_peak": silence_peak,
            "total_samples": offset,
            "clips": clips,
            "skipped": skipped,
        }
        with open(tmp / _INDEX, "w", encoding="utf-8") as f:
            json.dump(index, f)
        try:
            os.rename(tmp, directory)
        except OSError:
            # Another process finished the same fingerprint first; its cache is identical, keep it.
            if not (directory / _INDEX).is_file():
                raise
            logger.info("audio store: %s was written concurrently; using it", directory)
            return
        logger.info(
            "audio store: %d clips (%.1f s) into %s, %d skipped",
            len(clips), offset / sample_rate, directory, len(skipped),
        )
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
