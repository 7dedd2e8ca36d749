"""Tiny real WAV files for fixture trees: tones with a little noise, silence, and broken files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def write_wav(
    path: str | Path,
    *,
    sample_rate: int = 16_000,
    seconds: float = 0.5,
    freq_hz: float = 220.0,
    kind: str = "tone",
    channels: int = 1,
    seed: int = 0,
) -> Path:
    """Write a 16-bit PCM WAV. ``kind``: "tone" (audible), "silence" (all zeros), "empty" (0 frames)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0 if kind == "empty" else int(round(seconds * sample_rate))
    t = np.arange(n) / sample_rate
    if kind == "tone":
        rng = np.random.default_rng(seed)
        wave = 0.3 * np.sin(2 * np.pi * freq_hz * t) + 0.01 * rng.standard_normal(n)
    elif kind in ("silence", "empty"):
        wave = np.zeros(n)
    else:
        raise ValueError(f"unknown kind {kind!r}")
    data = np.repeat(wave[:, None], channels, axis=1) if channels > 1 else wave
    sf.write(str(path), data.astype(np.float32), sample_rate, subtype="PCM_16")
    return path


def write_lfs_pointer(path: str | Path) -> Path:
    """Write a git-lfs pointer text file under an audio name (what a clone without LFS gives)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "version https://git-lfs.github.com/spec/v1\n"
        "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
        "size 102400\n"
    )
    return path


def write_corrupt(path: str | Path) -> Path:
    """Write a file with a .wav name whose bytes are not audio (a truncated/corrupt download)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunk")
    return path


def clip_dataset(paths: list[Path], root: Path, corpus: str = "fake", sample_rates: list[int] | None = None):
    """A canonical-schema dataset of ``paths`` (one clip each, speaker ``spk1``, label neutral), as a loader
    would return it; ``utt_id`` is the file's stem and ``rel_path`` its path below ``root``."""
    import datasets

    from hf_ser.corpora._schema import FEATURES, NO_VOTES

    rows = [
        {
            "utt_id": Path(path).stem, "corpus": corpus, "path": str(path),
            "rel_path": Path(path).relative_to(root).as_posix(), "label": "neutral", "orig_label": "N",
            "speaker": "spk1", "gender": "unknown", "language": "en", "text": "", "session": "", "split": "",
            "valence": float("nan"), "arousal": float("nan"), "dominance": float("nan"), "duration_s": 0.5,
            "sample_rate": (sample_rates or [16_000] * len(paths))[i], "meta": "{}", **NO_VOTES,
        }
        for i, path in enumerate(paths)
    ]
    return datasets.Dataset.from_dict({k: [r[k] for r in rows] for k in FEATURES}, features=FEATURES)
