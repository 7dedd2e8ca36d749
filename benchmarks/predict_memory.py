"""Peak resident memory of ``hf-ser predict`` on an audio "bomb": a small FLAC that decodes to hours.

Writes a FLAC of ``--hours`` of silence at ``--rate`` Hz (a click a second in the first minute, so it is not
skipped as silent; about 111 KB for 4 hours at 2 kHz), saves a random ``shape:tiny`` model, labels the file
with ``hf_ser.predict.predict_files`` and prints the file's size, what it decodes to at 16 kHz, the windows
scored and the process's peak resident set (``VmHWM``; the model and the imports included)::

    python -m benchmarks.predict_memory [--hours 4] [--rate 2000]

Run it with another checkout first on ``PYTHONPATH`` to compare versions of hf_ser.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf


def write_bomb(path: Path, hours: float, rate: int) -> Path:
    with sf.SoundFile(path, "w", samplerate=rate, channels=1, format="FLAC", subtype="PCM_16") as f:
        minute = np.zeros(rate * 60, np.float32)
        minute[::rate] = 0.5
        for _ in range(int(hours * 60)):
            f.write(minute)
            minute[:] = 0.0
    return path


def peak_rss_mb() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) // 1024 for line in f if line.startswith("VmHWM"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=4.0)
    parser.add_argument("--rate", type=int, default=2000)
    args = parser.parse_args(argv)

    from transformers import Wav2Vec2FeatureExtractor

    import hf_ser
    from hf_ser.models.builder import build_model
    from hf_ser.predict import predict_files
    from hf_ser.training.saving import save_model

    with tempfile.TemporaryDirectory() as tmp:
        bomb = write_bomb(Path(tmp) / "bomb.flac", args.hours, args.rate)
        model = build_model(backbone="shape:tiny", id2label={0: "angry", 1: "happy", 2: "neutral", 3: "sad"})
        save_model(model, Wav2Vec2FeatureExtractor(), Path(tmp) / "model")
        del model
        start = time.perf_counter()
        (result,) = predict_files(Path(tmp) / "model", [bomb], batch_size=8, device="cpu")
        seconds = time.perf_counter() - start
        size = bomb.stat().st_size
    print(
        f"hf_ser {hf_ser.__version__} from {Path(hf_ser.__file__).parent.parent.name}: {size / 1024:.0f} KB FLAC, "
        f"{args.hours:g} h at {args.rate} Hz ({args.hours * 3600 * 16_000 * 4 / 2**30:.2f} GiB as 16 kHz float32); "
        f"label {result.label}, error {result.error}, {len(result.segments)} windows in {seconds:.0f} s; "
        f"peak resident {peak_rss_mb()} MB"
    )


if __name__ == "__main__":
    main()
