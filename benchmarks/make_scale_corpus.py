"""Write a synthetic manifest corpus of short clips, for measuring how the data side scales (1k to 100k clips).

Each clip is 0.5-2 s of 16 kHz 16-bit mono WAV (a few harmonics plus noise, never silent), spread over
``--speakers`` speakers and four labels, under ``OUT/audio/<speaker>/<n>.wav``; ``OUT/manifest.csv`` lists them
in the ``manifest`` loader's format (path, label, speaker, gender). Deterministic for a given ``--seed``.

Usage: python -m benchmarks.make_scale_corpus OUT --clips 10000 [--speakers 100] [--seed 0]
Then: recipe ``data.corpora=[{name: manifest, root: OUT}]`` (see benchmarks/measure_scale.py).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
import soundfile as sf

SAMPLE_RATE = 16_000
LABELS = ("anger", "happiness", "neutral", "sadness")


def make_corpus(out: str | Path, clips: int, *, speakers: int = 100, seed: int = 0,
                min_s: float = 0.5, max_s: float = 2.0) -> Path:
    """Write ``clips`` WAV files and ``manifest.csv`` under ``out``; returns the manifest path."""
    out = Path(out)
    rng = np.random.default_rng(seed)
    lengths = rng.integers(int(min_s * SAMPLE_RATE), int(max_s * SAMPLE_RATE) + 1, size=clips)
    labels = rng.integers(0, len(LABELS), size=clips)
    speaker_of = np.arange(clips) % speakers
    t_max = np.arange(int(max_s * SAMPLE_RATE) + 1) / SAMPLE_RATE
    rows = []
    for n in range(clips):
        spk = f"spk{speaker_of[n]:04d}"
        rel = Path("audio") / spk / f"{n:06d}.wav"
        (out / rel.parent).mkdir(parents=True, exist_ok=True)
        t = t_max[: lengths[n]]
        f0 = 100.0 + 20.0 * labels[n] + 2.0 * (speaker_of[n] % 30)
        wave = 0.3 * np.sin(2 * np.pi * f0 * t) + 0.1 * np.sin(2 * np.pi * 2 * f0 * t)
        wave += 0.02 * rng.standard_normal(len(t))
        sf.write(out / rel, (wave * 32767).astype(np.int16), SAMPLE_RATE, subtype="PCM_16")
        rows.append({"path": rel.as_posix(), "label": LABELS[labels[n]], "speaker": spk,
                     "gender": "female" if speaker_of[n] % 2 else "male"})
    manifest = out / "manifest.csv"
    with open(manifest, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["path", "label", "speaker", "gender"])
        writer.writeheader()
        writer.writerows(rows)
    return manifest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--clips", type=int, required=True)
    parser.add_argument("--speakers", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    manifest = make_corpus(args.out, args.clips, speakers=args.speakers, seed=args.seed)
    print(f"wrote {args.clips} clips and {manifest}")


if __name__ == "__main__":
    main()
