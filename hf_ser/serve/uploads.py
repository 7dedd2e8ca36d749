"""Uploaded bytes -> a 16 kHz waveform, or the HTTP status and reason it is refused with.

The format is told from the first bytes (never from a client's file name or content type): a container soundfile
decodes is written to a temporary file that this module owns and deletes, and decoded by ``hf_ser.audio`` (the one
place that decodes). Refusals:

- 413: more bytes than ``max_bytes``, or a header duration over ``max_duration_s`` (checked before decoding);
- 415: not audio, or an audio container soundfile cannot decode (m4a, webm, ...; the reason gives the ffmpeg
  command that converts it);
- 422: a damaged file (a recognised format whose header or data cannot be read, a truncated WAV).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hf_ser.audio import SAMPLE_RATE, AudioError, GitLfsPointerError, load_audio, read_info

# Formats soundfile decodes: name -> file suffix for the temporary file.
DECODED = {"wav": ".wav", "rf64": ".rf64", "w64": ".w64", "flac": ".flac", "ogg": ".ogg", "mp3": ".mp3",
           "aiff": ".aiff", "au": ".au", "caf": ".caf"}
_W64_GUID = bytes.fromhex("726966662e91cf11a5d628db04c10000")
_ASF_GUID = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")


@dataclass
class UploadRejected(Exception):
    """An upload refused with an HTTP ``status``; ``body()`` is the JSON answer (the reason and the limit)."""

    status: int
    reason: str
    limit: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.reason

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.reason, "status": self.status}
        if self.limit:
            out["limit"] = self.limit
        return out


@dataclass(frozen=True)
class UploadLimits:
    """What one request may carry: ``max_bytes`` of audio file, ``max_duration_s`` of audio."""

    max_bytes: int = 25 * 1024 * 1024
    max_duration_s: float = 600.0

    def too_many_bytes(self, size: int) -> UploadRejected:
        return UploadRejected(
            413, f"upload too large: {size} bytes > max_bytes {self.max_bytes}", {"max_bytes": self.max_bytes}
        )


def sniff_format(head: bytes) -> str | None:
    """The container named by the first bytes of a file (``None``: not an audio format known here)."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"RF64":
        return "rf64"
    if head[:16] == _W64_GUID:
        return "w64"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head[:4] == b".snd":
        return "au"
    if head[:4] == b"caff":
        return "caf"
    if head[:3] == b"ID3":
        return "mp3"
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "aac" if (head[1] >> 1) & 0x3 == 0 else "mp3"  # ADTS AAC has layer bits 00; MPEG audio does not
    if head[4:8] == b"ftyp":
        return "mp4"
    if head[:4] == b"\x1aE\xdf\xa3":
        return "webm"
    if head[:5] == b"#!AMR":
        return "amr"
    if head[:16] == _ASF_GUID:
        return "wma"
    return None


def decode_upload(data: bytes, limits: UploadLimits, sampling_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Mono float32 at ``sampling_rate`` from an uploaded file's bytes.

    Raises:
        UploadRejected: 413 / 415 / 422 as in the module docstring.
    """
    if len(data) > limits.max_bytes:
        raise limits.too_many_bytes(len(data))
    kind = sniff_format(data[:16])
    if kind is None:
        raise UploadRejected(415, "not audio: the upload does not start like any audio format (WAV, FLAC, OGG, "
                                  "MP3, AIFF, AU, CAF)")
    if kind not in DECODED:
        raise UploadRejected(415, f"{kind} audio cannot be decoded here (soundfile reads WAV, FLAC, OGG, MP3, AIFF, "
                                  f"AU, CAF); convert it first: ffmpeg -i in.{kind} -ac 1 -ar {SAMPLE_RATE} out.wav")
    handle, path = tempfile.mkstemp(prefix="hf-ser-upload-", suffix=DECODED[kind])
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
        try:
            info = read_info(path)
            if info.duration_s > limits.max_duration_s:
                raise UploadRejected(
                    413, f"audio too long: {info.duration_s:.1f} s > max_duration_s {limits.max_duration_s:g}",
                    {"max_duration_s": limits.max_duration_s},
                )
            wave, _ = load_audio(path, target_sr=sampling_rate)
        except (AudioError, GitLfsPointerError) as e:
            reason = str(getattr(e, "reason", None) or e).replace(path, "upload")
            raise UploadRejected(422, f"damaged {kind} file: {reason}") from None
    finally:
        os.unlink(path)  # the temporary copy this function wrote
    return wave
