"""Prepare once: decode, resample and check every clip a single time into a memory-mapped 16 kHz store.

The HF audio-classification example decodes and resamples every clip again on every epoch; here
``AudioStore.prepare`` decodes each file once through ``hf_ser.audio.load_audio`` (from the file's own header
rate), drops unreadable, empty and silent clips, and writes all samples into one flat ``.npy`` that training
reads as memory-mapped views: the store stays on disk (the page cache holds what is read), never whole in RAM.

Cache layout (``cache_root/<fingerprint>/``)::

    audio.npy    float32 (default) or int16, shape (total_samples,): every kept clip back to back
    index.json   format version, settings, [key, offset, length] per kept clip, skipped clips with reasons

Sample format (``dtype``):

* ``float32``: ``get`` returns the exact ``load_audio`` output as a zero-copy view; 64 KB per audio-second.
* ``int16``: half the disk (32 KB per audio-second). Stored as ``q = round(x * 32768)`` clipped to int16 and
  read back as ``q / 32768`` (float32). For 16-bit PCM files already at 16 kHz and mono (what most SER corpora
  ship) this reconstructs the decoded samples EXACTLY: libsndfile decodes 16-bit PCM as ``q / 32768``. Resampled,
  down-mixed or float/24-bit sources are rounded to 16 bits (error at most 2**-16, below 16-bit PCM's own step);
  ``index.json`` counts such clips in ``inexact_clips``.

Fingerprint (the folder name): the store settings (``FORMAT_VERSION``, sample rate, silence threshold, dtype)
and per clip its key, ``rel_path``, the resolved corpus root and a content hash of the file (blake2b of its
bytes), so the store is never stale: a processed copy of a corpus (same names, lengths and rates) or a file
rewritten in place gets a store of its own. The full hash is computed only when a file looks changed: per
corpus root, ``cache_root/content/<slot>.json`` records each file's size, mtime, a hash of its first and last
4 KB and its full hash; a file whose first three agree reuses the recorded hash (a warm start stats each file
and reads 8 KB of it). ``index.json`` keeps the content hashes, and ``content_changed`` counts the files that
differed, when the store was built, from the previous store built from the same root with the same settings
(``data_report.json`` reports it).

Concurrency and several machines: a builder takes an exclusive file lock ``cache_root/<fingerprint>.lock``
(``fcntl.flock``), checks again whether the store was published meanwhile, writes into a private temporary
folder and publishes it with one atomic rename. So any number of processes may call ``prepare`` at once
(several ranks, several nodes): per cache folder exactly one decodes; the others wait on the lock (no
collective barrier, so no process-group timeout however long the build) and then read the published store.
With node-local cache folders each node builds its own copy once; with ``cache_root`` on a shared filesystem
the first node builds and every other node reuses it (NFSv4 and most cluster filesystems honour ``flock``; where
locking is unsupported the lock is skipped with a warning and concurrent builders only duplicate work, the
first rename wins). A build first removes what a killed build of the same fingerprint left (``.tmp-<fingerprint>-*``,
only while it holds the lock); folders follow the user's umask, so a cache can be shared by a group. Old
fingerprints are never deleted automatically; remove ``cache_root`` to reclaim space.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import hashlib
import json
import logging
import os
import shutil
import stat as stat_module
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import datasets
import numpy as np
from tqdm.auto import tqdm

from hf_ser import audio
from hf_ser.corpora import SkipLog, SkippedFile, clip_key, read_columns
from hf_ser.fsutil import atomic_write_text, fsync_tree, make_temp_dir, remove_stale_temps

logger = logging.getLogger(__name__)

FORMAT_VERSION = 2
StoreDtype = Literal["float32", "int16"]
STORE_DTYPES: tuple[str, ...] = ("float32", "int16")
_AUDIO = "audio.npy"
_INDEX = "index.json"
_CONTENT_DIR = "content"  # per corpus root: the content-hash memo and the fingerprint of its latest store
_EDGE_BYTES = 4096  # the "first and last blocks" of a file that, with size and mtime, say it is unchanged
_INT16_SCALE = 32768.0  # libsndfile's 16-bit PCM <-> float scale
# Fixed .npy header length (a multiple of 64, as the format asks): the header is written last, once the total
# sample count is known, so the samples stream straight to disk in one pass.
_NPY_HEADER_BYTES = 128


def default_cache_root() -> Path:
    """``$HF_SER_CACHE`` when set, else ``~/.cache/hf_ser``."""
    return Path(os.environ.get("HF_SER_CACHE") or "~/.cache/hf_ser").expanduser()


# The store keys clips as everything else does (``hf_ser.corpora.clip_key``).
store_key = clip_key


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[bool]:
    """Hold an exclusive ``flock`` on ``path`` (created if needed) for the block; waits without a timeout.

    Yields ``False`` (and logs a warning) on a filesystem without lock support: callers must then stay
    correct without it (atomic publish), merely doing duplicate work.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
        except OSError as e:
            if e.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                raise
            logger.warning("no file locking on %s (%s): concurrent builders may duplicate work", path.parent, e)
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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
        self.dtype: str = index["dtype"]
        self.inexact_clips: int = int(index.get("inexact_clips", 0))
        # Files whose content differed from the previous store of the same corpus root (all decoded again).
        self.content_changed: int = int(index.get("content_changed", 0))
        self.total_samples: int = int(index["total_samples"])
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
        sample_rate: int = audio.SAMPLE_RATE,
        silence_peak: float = audio.SILENCE_PEAK,
        dtype: StoreDtype = "float32",
        max_file_s: float | None = None,
        skip_log: SkipLog | None = None,
        progress: bool = True,
    ) -> tuple[AudioStore, datasets.Dataset]:
        """Decode every clip of ``dataset`` once (or reuse the cache) and drop the unusable ones.

        Args:
            dataset: canonical schema; ``path`` is read, ``corpus/utt_id`` is the key, ``rel_path`` is reported.
            cache_root: folder holding one sub-folder per fingerprint (see ``default_cache_root``).
            sample_rate: rate of the stored samples; every file is resampled from its own header rate.
            silence_peak: clips whose absolute peak stays below this are dropped as silent.
            dtype: ``float32`` or ``int16`` samples on disk (see the module docstring).
            max_file_s: files longer than this (by their header, before decoding) are skipped as "too long"
                (``data.max_file_s``); ``None``: no limit.
            skip_log: receives each dropped clip as ``skip(rel_path, reason, was_used=True)``, the same on a
                cache hit; paths get a ``corpus/`` prefix when the dataset mixes corpora.
            progress: show a tqdm bar while decoding.

        Returns:
            ``(store, kept)``: the store and ``dataset`` without the dropped rows (order kept).

        Raises:
            GitLfsPointerError: a file is a git-lfs pointer (the corpus is unusable as a whole).
            ValueError: two rows share a key, or an unknown ``dtype``.
        """
        if dtype not in STORE_DTYPES:
            raise ValueError(f"store dtype {dtype!r}: expected one of {list(STORE_DTYPES)}")
        cols = read_columns(dataset, ("corpus", "utt_id", "path", "rel_path"))
        keys = [store_key(c, u) for c, u in zip(cols["corpus"], cols["utt_id"])]
        if len(set(keys)) != len(keys):
            seen: set[str] = set()
            dupes = sorted({k for k in keys if k in seen or seen.add(k)})[:5]
            raise ValueError(f"clip keys must be unique (corpus/utt_id); duplicated: {dupes}")
        root = Path(cache_root).expanduser()
        settings = [sample_rate, repr(float(silence_peak)), dtype, max_file_s]
        roots = sorted({_resolved_root(p, r) for p, r in zip(cols["path"], cols["rel_path"])})
        slot = hashlib.sha256(json.dumps([FORMAT_VERSION, settings, roots]).encode()).hexdigest()[:20]
        contents = content_hashes(cols["path"], root / _CONTENT_DIR / f"{slot}.json")
        fingerprint = _fingerprint(keys, cols, contents, settings)
        directory = root / fingerprint
        if (directory / _INDEX).is_file():
            logger.info("audio store: reusing %s (%d clips)", directory, len(keys))
        else:
            with exclusive_lock(root / f"{fingerprint}.lock") as locked:
                if (directory / _INDEX).is_file():  # published by another process while we waited
                    logger.info("audio store: %s was built by another process; using it", directory)
                else:
                    if locked:  # no other builder of this fingerprint is alive: what is there was left by a kill
                        for stale in remove_stale_temps(root, fingerprint):
                            logger.info("audio store: removed %s, left half-built by an interrupted build", stale)
                    latest = root / _CONTENT_DIR / f"{slot}.latest"
                    previous = _previous_contents(root, latest)
                    changed = sum(1 for k, c in zip(keys, contents) if k in previous and previous[k] != c)
                    _build(directory, keys, cols["path"], cols["rel_path"], contents, changed, sample_rate, silence_peak, dtype, max_file_s, progress)
                    atomic_write_text(latest, fingerprint)
        store = cls(directory)
        if skip_log is not None:
            prefix = len(set(cols["corpus"])) > 1
            for key, item in store.skipped:
                path = f"{key.split('/', 1)[0]}/{item.path}" if prefix else item.path
                skip_log.skip(path, item.reason, was_used=True)
        if not store.skipped:
            return store, dataset
        skipped = {key for key, _ in store.skipped}
        return store, dataset.select([i for i, key in enumerate(keys) if key not in skipped])

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self._spans)

    @property
    def corpora(self) -> frozenset[str]:
        """The ``corpus`` values of the stored keys."""
        return frozenset(key.split("/", 1)[0] for key in self._spans)

    def __len__(self) -> int:
        return len(self._spans)

    def __contains__(self, key: object) -> bool:
        return key in self._spans

    def span(self, key: str) -> tuple[int, int]:
        """``(offset, length)`` of clip ``key`` in samples (for ``read``)."""
        try:
            return self._spans[key]
        except KeyError:
            raise KeyError(f"clip {key!r} is not in the audio store {self.directory}") from None

    def num_samples(self, key: str) -> int:
        """Length of clip ``key`` in samples at ``sample_rate``."""
        return self.span(key)[1]

    def duration_s(self, key: str) -> float:
        return self.num_samples(key) / self.sample_rate

    def get(self, key: str) -> np.ndarray:
        """The samples of clip ``key``: ``(samples,)`` float32; read-only for float32 stores (copy before editing)."""
        return self.read(*self.span(key))

    def read(self, offset: int, length: int) -> np.ndarray:
        """``length`` samples from ``offset`` as float32 (a memory-map view for float32 stores)."""
        samples = self._samples()[offset : offset + length]
        if self.dtype == "int16":
            return samples.astype(np.float32) / np.float32(_INT16_SCALE)
        return samples

    def _samples(self) -> np.ndarray:
        # Opened lazily (and dropped when pickled) so DataLoader workers map the file instead of copying it.
        if self._audio is None:
            empty = np.zeros(0, np.int16 if self.dtype == "int16" else np.float32)
            self._audio = np.load(self.directory / _AUDIO, mmap_mode="r") if self.total_samples else empty
        return self._audio

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_audio"] = None
        return state


def _previous_contents(root: Path, latest: Path) -> dict[str, str]:
    """Per clip key, the content hash of the last store built from the same corpus root with the same settings."""
    try:
        with open(root / latest.read_text(encoding="utf-8").strip() / _INDEX, encoding="utf-8") as f:
            return dict(json.load(f).get("contents") or {})
    except (OSError, ValueError):
        return {}


def _fingerprint(keys: list[str], cols: dict[str, list], contents: list[str], settings: list) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([FORMAT_VERSION, *settings]).encode())
    roots = [_resolved_root(p, r) for p, r in zip(cols["path"], cols["rel_path"])]
    for key, rel, root, content in sorted(zip(keys, cols["rel_path"], roots, contents)):
        digest.update(f"{key}\0{rel}\0{root}\0{content}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:20]


@functools.lru_cache(maxsize=64)
def _resolve(folder: str) -> str:
    return os.path.realpath(folder)


def _resolved_root(path: str, rel_path: str) -> str:
    """The resolved corpus root of a clip: ``path`` less its ``rel_path`` (its folder when they do not line up)."""
    rel = rel_path.replace("\\", "/")
    folder = path[: len(path) - len(rel)] if rel and path.replace("\\", "/").endswith(rel) else os.path.dirname(path)
    return _resolve(folder or ".")


# ---------------------------------------------------------------------------------------------- content hashes
def content_hashes(paths: list[str], memo_path: Path) -> list[str]:
    """A content hash of every file (blake2b of its bytes), computed in full only when the file looks changed.

    A file looks unchanged when its size, mtime and a hash of its first and last ``_EDGE_BYTES`` all equal what
    ``memo_path`` recorded for that path; then the recorded full hash is reused. Otherwise (a new, touched,
    copied or edited file) the whole file is hashed. Special files (FIFOs, devices) and missing files are never
    opened: their hash names what they are, and decoding skips them with a reason.

    Returns:
        One hash per path.
    """
    memo = _read_memo(memo_path)
    hashes, fresh = [], {}
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            hashes.append("missing")
            continue
        if not stat_module.S_ISREG(st.st_mode):
            hashes.append("special")
            continue
        try:
            edges = _edge_hash(path, st.st_size)
            fast = [st.st_size, st.st_mtime_ns, edges]
            known = memo.get(path)
            full = known[3] if known is not None and known[:3] == fast else _full_hash(path)
        except OSError as e:
            hashes.append(f"unreadable {e.errno}")
            continue
        fresh[path] = [*fast, full]
        hashes.append(full)
    if any(memo.get(k) != v for k, v in fresh.items()):
        memo.update(fresh)
        atomic_write_text(memo_path, json.dumps(memo))
    return hashes


def _edge_hash(path: str, size: int) -> str:
    with open(path, "rb") as f:
        digest = hashlib.blake2b(f.read(_EDGE_BYTES), digest_size=16)
        if size > 2 * _EDGE_BYTES:
            f.seek(size - _EDGE_BYTES)
            digest.update(f.read(_EDGE_BYTES))
    return digest.hexdigest()


def _full_hash(path: str) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_memo(path: Path) -> dict[str, list]:
    try:
        memo = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return memo if isinstance(memo, dict) else {}


def _npy_header(total: int, dtype: str) -> bytes:
    descr = "<i2" if dtype == "int16" else "<f4"
    body = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({total},), }}"
    body = body.ljust(_NPY_HEADER_BYTES - 10 - 1) + "\n"  # magic 6 + version 2 + length 2 bytes precede it
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(body)) + body.encode("latin1")


def _encode(wave: np.ndarray, dtype: str) -> tuple[bytes, bool]:
    """The clip's bytes on disk and whether reading them back gives ``wave`` exactly."""
    if dtype == "float32":
        return np.ascontiguousarray(wave, dtype="<f4").tobytes(), True
    q = np.clip(np.round(wave.astype(np.float64) * _INT16_SCALE), -32768, 32767).astype("<i2")
    exact = np.array_equal(q.astype(np.float32) / np.float32(_INT16_SCALE), wave)
    return q.tobytes(), exact


def _build(
    directory: Path,
    keys: list[str],
    paths: list[str],
    rel_paths: list[str],
    contents: list[str],
    changed: int,
    sample_rate: int,
    silence_peak: float,
    dtype: str,
    max_file_s: float | None,
    progress: bool,
) -> None:
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = make_temp_dir(directory.parent, directory.name)
    try:
        clips: list[list[Any]] = []
        skipped: list[dict[str, str]] = []
        offset = inexact = 0
        with open(tmp / _AUDIO, "wb") as out:
            out.write(b"\0" * _NPY_HEADER_BYTES)
            for key, path, rel in tqdm(
                list(zip(keys, paths, rel_paths)), disable=not progress, desc="decoding audio", unit="clip"
            ):
                try:
                    wave, _ = audio.load_audio(path, target_sr=sample_rate, max_s=max_file_s)
                except audio.AudioError as e:
                    skipped.append({"key": key, "path": rel, "reason": e.reason})
                    continue
                reason = audio.silence_reason(wave, silence_peak)
                if reason is not None:
                    skipped.append({"key": key, "path": rel, "reason": reason})
                    continue
                data, exact = _encode(wave, dtype)
                out.write(data)
                inexact += not exact
                clips.append([key, offset, int(wave.size)])
                offset += int(wave.size)
            out.seek(0)
            out.write(_npy_header(offset, dtype))
        index = {
            "format": FORMAT_VERSION,
            "sample_rate": sample_rate,
            "silence_peak": silence_peak,
            "dtype": dtype,
            "inexact_clips": inexact,
            "total_samples": offset,
            "clips": clips,
            "skipped": skipped,
            "contents": dict(zip(keys, contents)),
            "content_changed": changed,
        }
        with open(tmp / _INDEX, "w", encoding="utf-8") as f:
            json.dump(index, f)
        fsync_tree(tmp)
        try:
            os.rename(tmp, directory)
        except OSError:
            # Another process (without a working lock) finished the same fingerprint first; identical, keep it.
            if not (directory / _INDEX).is_file():
                raise
            logger.info("audio store: %s was written concurrently; using it", directory)
            return
        logger.info(
            "audio store: %d clips (%.1f s, %s) into %s, %d skipped, %d not exact in %s",
            len(clips), offset / sample_rate, dtype, directory, len(skipped), inexact, dtype,
        )
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
