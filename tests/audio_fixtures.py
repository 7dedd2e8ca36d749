"""Tiny real WAV files for fixture trees: tones with a little noise, silence, and broken files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from hf_ser.audio import SAMPLE_RATE, load_audio

DEMO_RAVDESS = Path(__file__).parents[1] / "hf_ser" / "demo_data" / "ravdess"


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


def _trimmed(path: Path) -> np.ndarray:
    """A demo clip without its leading / trailing silence (10-ms frames above a tenth of the peak RMS)."""
    wave, _ = load_audio(path)
    frames = wave[: len(wave) // 160 * 160].reshape(-1, 160)
    active = np.flatnonzero(np.sqrt((frames**2).mean(axis=1)) > 0.1 * np.sqrt((frames**2).mean(axis=1)).max())
    return wave[active[0] * 160 : (active[-1] + 1) * 160]


def write_three_bursts(path: Path) -> list[tuple[float, float]]:
    """60 s: 10 s of silence, then three speech bursts (three demo clips each, 0.3 s apart) separated by 5 s of
    silence, then silence to the end; a faint noise floor throughout. Returns the bursts' (start, end) in s."""
    sr = SAMPLE_RATE
    clips = [_trimmed(p) for p in sorted(DEMO_RAVDESS.rglob("*.wav"))[:9]]
    gap = np.zeros(int(0.3 * sr), np.float32)
    parts, bursts, pos = [np.zeros(10 * sr, np.float32)], [], 10 * sr
    for b in range(3):
        burst = np.concatenate([clips[3 * b], gap, clips[3 * b + 1], gap, clips[3 * b + 2]])
        bursts.append((pos / sr, (pos + len(burst)) / sr))
        parts += [burst, np.zeros(5 * sr, np.float32)]
        pos += len(burst) + 5 * sr
    wave = np.concatenate(parts)[: 60 * sr]
    wave = np.pad(wave, (0, 60 * sr - len(wave)))
    wave += 1e-4 * np.random.default_rng(0).standard_normal(len(wave)).astype(np.float32)
    sf.write(path, wave, sr, subtype="PCM_16")
    return bursts
