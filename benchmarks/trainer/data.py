"""The benchmark corpus: the demo corpora repeated to a realistic size and length distribution.

The demo clips last 0.75-3.3 s; real SER corpora (IEMOCAP) are longer and skewed. Each benchmark clip draws a
target length from a log-normal distribution (median ``median_s``, log-sd ``sigma``, clipped to
``[min_s, max_s]``: by default median 3 s, long tail to 15 s), then concatenates random demo clips of one label
and one corpus until it is long enough, and is cut to that length. Clips are written once as 16-bit WAV files
at the corpus's real native rate (RAVDESS and EMOVO 48 kHz, CREMA-D and EMO-DB 16 kHz), so the baseline must
decode and resample them the way a user's data loader would. Labels: the 4-class set (anger, happiness,
neutral, sadness).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from hf_ser import audio
from hf_ser.corpora import load_corpus
from hf_ser.demo_data import demo_root

logger = logging.getLogger(__name__)

# Native sample rate of each real corpus (docs: corpora.md, summary table); the demo stores some at 16 kHz.
NATIVE_RATES: dict[str, int] = {"ravdess": 48_000, "crema_d": 16_000, "emodb": 16_000, "emovo": 48_000}
LABEL_SET = "4class"


@dataclass(frozen=True)
class BenchClip:
    """One benchmark clip on disk."""

    key: str
    path: str
    label: str
    sample_rate: int
    duration_s: float


@dataclass(frozen=True)
class BenchData:
    """The benchmark's train and test clips and their label names (sorted)."""

    train: tuple[BenchClip, ...]
    test: tuple[BenchClip, ...]
    labels: tuple[str, ...]

    def describe(self) -> dict:
        """Sizes and the length distribution, as printed with the results."""
        lengths = np.array([c.duration_s for c in self.train + self.test])
        return {
            "clips_train": len(self.train),
            "clips_test": len(self.test),
            "audio_h_train": round(sum(c.duration_s for c in self.train) / 3600, 3),
            "length_s": {
                "median": round(float(np.median(lengths)), 2),
                "mean": round(float(lengths.mean()), 2),
                "p90": round(float(np.percentile(lengths, 90)), 2),
                "max": round(float(lengths.max()), 2),
            },
            "native_rates": sorted({c.sample_rate for c in self.train + self.test}),
            "labels": list(self.labels),
        }


def build_bench_data(
    out_dir: str | Path,
    *,
    num_clips: int = 240,
    test_fraction: float = 0.2,
    median_s: float = 3.0,
    sigma: float = 0.55,
    min_s: float = 1.0,
    max_s: float = 15.0,
    seed: int = 0,
) -> BenchData:
    """Write ``num_clips`` benchmark clips under ``out_dir`` (reused when already there) and split them.

    Args:
        out_dir: folder for the WAV files.
        num_clips: clips in all (train + test).
        test_fraction: share of clips held out for the final WA/UA.
        median_s, sigma, min_s, max_s: the log-normal length distribution and its clipping.
        seed: seeds lengths, sources and the split.

    Returns:
        The clips, split into train and test.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    sources = _demo_sources()
    groups = sorted(sources)  # (corpus, label)
    clips = []
    for n in range(num_clips):
        corpus, label = groups[int(rng.integers(len(groups)))]
        target_s = float(np.clip(rng.lognormal(np.log(median_s), sigma), min_s, max_s))
        rate = NATIVE_RATES[corpus]
        path = out / f"{corpus}_{n:05d}_{label}.wav"
        target = int(target_s * audio.SAMPLE_RATE)  # the demo sources are 16 kHz
        if not path.is_file():
            pieces, total = [], 0
            while total < target:
                wave = sources[(corpus, label)][int(rng.integers(len(sources[(corpus, label)])))]
                pieces.append(wave)
                total += len(wave)
            wave = np.concatenate(pieces)[:target]
            wave = audio.resample(wave, audio.SAMPLE_RATE, rate)
            sf.write(path, np.clip(wave, -1.0, 1.0), rate, subtype="PCM_16")
        else:  # keep the random stream identical whether the file is written or reused
            _skip_draws(rng, sources[(corpus, label)], target)
        clips.append(BenchClip(f"bench/{n:05d}", str(path), label, rate, target_s))
    order = rng.permutation(num_clips)
    n_test = int(round(num_clips * test_fraction))
    test = tuple(clips[i] for i in sorted(order[:n_test]))
    train = tuple(clips[i] for i in sorted(order[n_test:]))
    return BenchData(train=train, test=test, labels=tuple(sorted({c.label for c in clips})))


def _demo_sources() -> dict[tuple[str, str], list[np.ndarray]]:
    """16 kHz waveforms of the demo corpora grouped by (corpus, label)."""
    sources: dict[tuple[str, str], list[np.ndarray]] = {}
    for corpus in NATIVE_RATES:
        dataset, _ = load_corpus(corpus, demo_root(corpus), label_set=LABEL_SET)
        # Sorted: the loaders' row order follows the file system, and the draws must not depend on it.
        for path, label in sorted(zip(dataset["path"], dataset["label"])):
            wave, _ = audio.load_audio(path)
            sources.setdefault((corpus, label), []).append(wave)
    return sources


def _skip_draws(rng: np.random.Generator, pool: list[np.ndarray], target: int) -> None:
    total = 0
    while total < target:
        total += len(pool[int(rng.integers(len(pool)))])
