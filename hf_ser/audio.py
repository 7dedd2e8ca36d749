"""The one place that reads, checks and resamples audio.

Every waveform hf_ser touches comes through here, so a change in an audio library is a one-file fix.
Decoding uses soundfile (libsndfile, bundled in its wheels: WAV, FLAC, OGG, MP3, AIFF) rather than
torchaudio/torchcodec, which needs system FFmpeg and is several times slower on WAV. Resampling uses
soxr, about 10x faster than ``torchaudio.functional.resample`` on CPU.

Waveforms are float32 mono numpy arrays: ``wave: (samples,)``.
"""

from __future__ import annotations

import math
import os
import stat
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

# The one sample rate of hf_ser: every store, model, feature and augmentation works at 16 kHz.
SAMPLE_RATE = 16_000
# A clip whose absolute peak stays below this is treated as silent. CREMA-D's 1076_MTI_SAD_XX has a normal
# duration but no signal, so silence must be judged by level, never by length.
SILENCE_PEAK = 1e-3
_SPAN_PAD_S = 0.05  # context read on each side of a resampled span (soxr's HQ filter is a few ms long)
_READ_FRAMES = 2**20  # frames per read in load_audio: one read for any clip under a minute at 16 kHz
_LFS_MAGIC = b"version https://git-lfs.github.com/spec/v1"
# What soundfile (libsndfile) decodes, by extension; folders are searched for these.
SOUNDFILE_EXTENSIONS = frozenset(
    {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif", ".aifc", ".au", ".snd", ".caf", ".w64", ".rf64"}
)
# Common audio / video containers soundfile cannot decode: found in folders too, and reported with the
# ffmpeg command that converts them (never skipped silently).
FFMPEG_ONLY_EXTENSIONS = frozenset({".m4a", ".mp4", ".aac", ".webm", ".wma", ".amr", ".3gp", ".mkv", ".mov", ".ac3"})


class AudioError(Exception):
    """A file that cannot be used as audio; ``reason`` is short and goes into skip reports."""

    def __init__(self, reason: str, path: str | Path | None = None):
        super().__init__(f"{path}: {reason}" if path is not None else reason)
        self.reason = reason
        self.path = None if path is None else str(path)


class GitLfsPointerError(RuntimeError):
    """The file is a git-lfs pointer, not audio: the corpus was cloned or zipped without LFS."""


@dataclass(frozen=True)
class AudioInfo:
    """Header facts of an audio file."""

    sample_rate: int
    frames: int
    channels: int

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0


def is_lfs_pointer(path: str | Path) -> bool:
    """True when ``path`` is a git-lfs pointer text file instead of the real content."""
    try:
        with open(path, "rb") as f:
            return f.read(len(_LFS_MAGIC)) == _LFS_MAGIC
    except OSError:
        return False


def raise_if_lfs_pointer(path: str | Path) -> None:
    """Fail loudly (with the fix) when a corpus file is a git-lfs pointer."""
    if is_lfs_pointer(path):
        raise GitLfsPointerError(
            f"{path} is a git-lfs pointer file, not audio. The corpus was downloaded without its LFS content "
            "(a GitHub zip or a clone without git-lfs). Fix: install git-lfs and run `git lfs pull` inside the "
            "corpus checkout, or download from a mirror that ships the audio."
        )


def wav_frames(path: str | Path) -> tuple[int, int] | None:
    """``(frames the header promises, whole frames the file holds)`` of a RIFF/WAVE file; ``None`` otherwise.

    Why: libsndfile silently clamps a ``data`` chunk that runs past the end of the file, so a truncated copy
    would be used at the shorter length. Streaming writers leave the size unset (0 or 0xFFFFFFFF); such files,
    RF64 and non-WAV files give ``None`` (nothing to check).
    """
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            block_align = 0
            while True:
                chunk = f.read(8)
                if len(chunk) < 8:
                    return None
                cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if cid == b"fmt ":
                    fmt = f.read(size)
                    if len(fmt) >= 14:
                        block_align = struct.unpack("<H", fmt[12:14])[0]
                    if size % 2:
                        f.seek(1, 1)
                elif cid == b"data":
                    if not block_align or size in (0, 0xFFFFFFFF):
                        return None
                    start = f.tell()
                    f.seek(0, 2)
                    held = f.tell() - start
                    return size // block_align, min(size, held) // block_align
                else:
                    f.seek(size + size % 2, 1)
    except OSError:
        return None


def _dangling_reason(path: str | Path) -> str | None:
    p = Path(path)
    if p.is_symlink() and not p.exists():
        return f"dangling symbolic link (target {os.readlink(p)} does not exist)"
    return None


def special_file_reason(path: str | Path) -> str | None:
    """Why ``path`` must not be opened as audio: a FIFO (blocks forever), a device such as ``/dev/zero`` (never
    ends), a socket, or a symbolic link to one of them; ``None`` for a regular file (or a missing one, which the
    caller reports). Decided from ``stat`` alone: the file is never opened."""
    try:
        mode = os.stat(path).st_mode  # follows links, opens nothing
    except OSError:
        return None
    if stat.S_ISREG(mode):
        return None
    kinds = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))
    kind = next((name for test, name in kinds if test(mode)), "not a regular file")
    via = " (through a symbolic link)" if Path(path).is_symlink() else ""
    return f"special file: {kind}{via}, never opened"


def _check_openable(path: str | Path) -> None:
    """The checks before any open: dangling links and special files (``AudioError``), git-lfs pointers."""
    reason = _dangling_reason(path) or special_file_reason(path)
    if reason:
        raise AudioError(reason, path)
    raise_if_lfs_pointer(path)


def read_info(path: str | Path) -> AudioInfo:
    """Read the header of an audio file without decoding it.

    Raises:
        GitLfsPointerError: the file is a git-lfs pointer.
        AudioError: the file is a dangling symbolic link, a special file (FIFO, device, socket), missing, not
            readable as audio, or a truncated WAV (reason "truncated: header N frames, file holds M").
    """
    _check_openable(path)
    try:
        info = sf.info(str(path))
    except Exception as e:  # soundfile raises several types (LibsndfileError, RuntimeError, ...)
        raise AudioError(_unreadable(path, e), path) from e
    frames = wav_frames(path)
    if frames is not None and frames[1] < frames[0]:
        raise AudioError(f"truncated: header {frames[0]} frames, file holds {frames[1]}", path)
    return AudioInfo(sample_rate=int(info.samplerate), frames=int(info.frames), channels=int(info.channels))


def resample(wave: np.ndarray, orig_sr: int, target_sr: int = SAMPLE_RATE) -> np.ndarray:
    """Resample a mono float32 waveform from ``orig_sr`` to ``target_sr`` (no-op when equal)."""
    if orig_sr == target_sr:
        return wave.astype(np.float32, copy=False)
    return soxr.resample(wave, orig_sr, target_sr, quality="HQ").astype(np.float32, copy=False)


def load_audio(path: str | Path, target_sr: int | None = SAMPLE_RATE, *, max_s: float | None = None) -> tuple[np.ndarray, int]:
    """Decode ``path`` to mono float32, resampled from the file's own header rate.

    Memory is bounded before decoding: the header says how many frames the file holds, at most that many
    (and, with ``max_s``, at most ``max_s`` seconds' worth plus one) are ever allocated, so a header that
    lies or a small file that decodes to hours cannot exhaust memory. Long files that must be read whole
    belong in ``read_blocks``.

    Args:
        path: any file soundfile reads.
        target_sr: output rate; ``None`` keeps the native rate.
        max_s: refuse (``AudioError`` "too long") a file longer than this many seconds; ``None``: no limit.

    Returns:
        ``(wave, sample_rate)`` with ``wave: (samples,)`` in [-1, 1].

    Raises:
        GitLfsPointerError: the file is a git-lfs pointer.
        AudioError: unreadable, truncated, empty, a special file, or longer than ``max_s``.
    """
    _check_openable(path)
    try:
        with sf.SoundFile(str(path)) as f:
            sr, limit = int(f.samplerate), f.frames
            if max_s is not None:
                if f.frames > max_s * sr:
                    raise AudioError(_too_long(f.frames / sr, max_s), path)
                limit = int(max_s * sr) + 1  # a header that under-reports is caught by reading one frame more
            data = _read_frames(f, limit)
    except AudioError:
        raise
    except Exception as e:
        raise AudioError(_unreadable(path, e), path) from e
    if max_s is not None and len(data) > max_s * sr:
        raise AudioError(_too_long(len(data) / sr, max_s, more=True), path)
    if data.size == 0:
        raise AudioError("empty audio (0 samples)", path)
    wave = _mono(data)
    if not np.isfinite(wave).all():
        raise AudioError("audio contains NaN or inf samples", path)
    if target_sr is not None and sr != target_sr:
        wave, sr = resample(wave, sr, target_sr), target_sr
    return np.ascontiguousarray(wave, dtype=np.float32), int(sr)


def decoded_samples(info: AudioInfo, target_sr: int = SAMPLE_RATE) -> int:
    """Samples a file decodes to at ``target_sr``, from its header alone (what ``load_audio`` would return,
    within a sample of resampling rounding)."""
    if not info.sample_rate:
        return 0
    return int(round(info.frames * target_sr / info.sample_rate))


def _read_frames(f: sf.SoundFile, limit: int) -> np.ndarray:
    """Up to ``limit`` frames of ``f`` as ``(frames, channels)`` float32, allocated as they are read (a header
    claiming 2**40 frames allocates nothing it does not fill)."""
    chunks = []
    while limit > 0:
        want = min(limit, _READ_FRAMES)
        block = f.read(frames=want, dtype="float32", always_2d=True)
        if len(block):
            chunks.append(block)
        limit -= len(block)
        if len(block) < want:
            break
    if not chunks:
        return np.zeros((0, f.channels), np.float32)
    return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)


def _mono(data: np.ndarray) -> np.ndarray:
    # Mix down: mean over channels keeps the level of a mono source duplicated in stereo.
    return data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]


def _too_long(seconds: float, max_s: float, more: bool = False) -> str:
    return f"too long: {'more than ' if more else ''}{seconds:.0f} s > data.max_file_s {max_s:g} s"


def read_blocks(
    path: str | Path, block_s: float = 30.0, target_sr: int = SAMPLE_RATE
) -> Iterator[np.ndarray]:
    """Decode ``path`` a block at a time: mono float32 at ``target_sr``, about ``block_s`` seconds per block.

    Why: a 1-hour 48 kHz stereo file is 1.3 GB as float32; read whole, memory grows with duration. Blocks are
    mixed down like ``load_audio`` and resampled by one streaming soxr resampler, so the concatenated blocks
    equal ``load_audio(path, target_sr)`` up to the resampler's block-edge rounding (none at the native rate).

    The public block reader: memory holds one block whatever the file decodes to (a 109 KB FLAC can hold
    hours). Special files (FIFOs, devices) are refused by ``read_info`` before anything is opened.

    Raises:
        GitLfsPointerError, AudioError: as ``read_info`` (checked before the first block).
    """
    info = read_info(path)
    frames = max(1, int(block_s * info.sample_rate))
    stream = None if info.sample_rate == target_sr else soxr.ResampleStream(info.sample_rate, target_sr, 1, "float32", "HQ")
    try:
        with sf.SoundFile(str(path)) as f:
            while True:
                data = f.read(frames, dtype="float32", always_2d=True)
                last = len(data) < frames
                wave = _mono(data)
                if not np.isfinite(wave).all():
                    raise AudioError("audio contains NaN or inf samples", path)
                if stream is not None:
                    wave = stream.resample_chunk(np.ascontiguousarray(wave, dtype=np.float32), last=last)
                if len(wave):
                    yield np.ascontiguousarray(wave, dtype=np.float32)
                if last:
                    return
    except AudioError:
        raise
    except Exception as e:  # soundfile raises several types (LibsndfileError, RuntimeError, ...)
        raise AudioError(_unreadable(path, e), path) from e


class SeekableWave:
    """A long file as a read-only waveform at ``target_sr`` that is never decoded whole: ``len(w)`` comes from the
    header, ``w[start:end]`` decodes just that span (seek + read + resample). Windowed scoring only slices its
    waves, so a file that decodes to hours is scored in the memory of one window (``decode_checked``).

    A span resampled on its own equals the whole-file resampling away from its edges: it is read with
    ``_SPAN_PAD_S`` of context on each side, aligned so that its samples fall on the whole file's sample grid.
    Holds no open file, so it pickles into DataLoader workers.
    """

    def __init__(self, path: str | Path, target_sr: int = SAMPLE_RATE):
        info = read_info(path)
        self.path, self.target_sr, self.sample_rate, self.frames = str(path), int(target_sr), info.sample_rate, info.frames
        self._n = decoded_samples(info, target_sr)

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, span: slice) -> np.ndarray:
        if not isinstance(span, slice) or span.step not in (None, 1):
            raise TypeError("a SeekableWave is read by contiguous slices only")
        start, end, _ = span.indices(self._n)
        end = max(start, end)
        g = math.gcd(self.sample_rate, self.target_sr)
        step_in, step_out = self.sample_rate // g, self.target_sr // g  # span starts on the common sample grid
        pad = math.ceil(_SPAN_PAD_S * self.target_sr / step_out) * step_out if step_in != step_out else 0
        first = max(0, (start - pad) // step_out * step_out)
        last = -(-(end + pad) // step_out) * step_out
        try:
            with sf.SoundFile(self.path) as f:
                f.seek(first // step_out * step_in)
                data = _read_frames(f, last // step_out * step_in - first // step_out * step_in)
        except Exception as e:
            raise AudioError(_unreadable(self.path, e), self.path) from e
        wave = resample(np.ascontiguousarray(_mono(data), dtype=np.float32), self.sample_rate, self.target_sr)
        out = wave[start - first : end - first]
        if len(out) < end - start:  # the header's length, rounded: pad the last sample or two
            out = np.pad(out, (0, end - start - len(out)))
        return np.ascontiguousarray(out, dtype=np.float32)

    def peak(self) -> float:
        """Largest absolute sample, read block by block (for the silence check)."""
        return max((float(np.max(np.abs(b))) for b in read_blocks(self.path, target_sr=self.target_sr) if len(b)), default=0.0)


def conversion_hint(path: str | Path) -> str:
    """The ffmpeg command that turns ``path`` into a 16 kHz mono WAV soundfile reads."""
    p = Path(path)
    return f"convert it first: ffmpeg -i '{p}' -ac 1 -ar {SAMPLE_RATE} '{p.with_suffix('.wav')}'"


def _unreadable(path: str | Path, e: Exception) -> str:
    reason = f"unreadable audio ({type(e).__name__}: {_short(e)})"
    if Path(path).suffix.lower() not in SOUNDFILE_EXTENSIONS:
        reason += f"; soundfile does not decode {Path(path).suffix or 'files without an extension'}, {conversion_hint(path)}"
    return reason


def silence_reason(wave: np.ndarray, peak_threshold: float = SILENCE_PEAK) -> str | None:
    """Return why ``wave`` is unusable (silent or empty), or ``None`` when it is fine."""
    if wave.size == 0:
        return "empty audio (0 samples)"
    peak = float(np.max(np.abs(wave)))
    if peak < peak_threshold:
        return f"silent audio (peak {peak:.2e} < {peak_threshold:.0e})"
    return None


def _short(e: Exception, limit: int = 120) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return text[:limit]
