"""Peak memory of ``hf_ser.load(MODEL).segments(long file)`` against the recording's length (docs/inference.md).

Writes 48 kHz stereo 16-bit recordings of each ``--minutes`` (demo speech clips separated by 2-5 s of silence,
repeated), then segments each in a fresh process and prints one line per file: duration, segments found, peak
resident memory (ru_maxrss) and wall time. Flat memory with duration is the point of reading in blocks.

    python benchmarks/measure_segment_memory.py runs/demo/onnx --backend onnx --minutes 2 10
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from hf_ser.audio import load_audio, resample
from hf_ser.demo_data import demo_root

RATE = 48_000
CHILD = """
import json, resource, sys, time
import hf_ser
model = hf_ser.load(sys.argv[1], backend=sys.argv[2])
start = time.perf_counter()
result = model.segments(sys.argv[3])
print(json.dumps({"segments": len(result.segments), "speech_s": result.speech_s, "duration_s": result.duration_s,
                  "wall_s": time.perf_counter() - start,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_recording(path: Path, minutes: float, seed: int = 0) -> None:
    """Speech clips and silences, written block by block (the script itself stays small too)."""
    rng = np.random.default_rng(seed)
    clips = [resample(load_audio(p)[0], 16_000, RATE) for p in sorted(demo_root("ravdess").rglob("*.wav"))[:24]]
    total = int(minutes * 60 * RATE)
    with sf.SoundFile(path, "w", RATE, 2, subtype="PCM_16") as f:
        written = 0
        while written < total:
            piece = np.concatenate([clips[rng.integers(len(clips))], np.zeros(int(rng.uniform(2, 5) * RATE), np.float32)])
            piece = piece[: total - written]
            f.write(np.stack([piece, 0.8 * piece], axis=1))
            written += len(piece)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="saved model folder, or an `hf-ser export onnx` folder with --backend onnx")
    parser.add_argument("--backend", choices=["torch", "onnx"], default="onnx")
    parser.add_argument("--minutes", type=float, nargs="+", default=[2.0, 10.0])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in args.minutes:
            path = Path(tmp) / f"rec_{minutes:g}min.wav"
            write_recording(path, minutes)
            done = subprocess.run([sys.executable, "-c", CHILD, args.model, args.backend, str(path)], capture_output=True, text=True)
            if done.returncode:
                sys.stderr.write(done.stderr[-3000:])
                return 1
            r = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                f"{minutes:g} min 48 kHz stereo ({path.stat().st_size / 2**20:.0f} MB on disk): {r['segments']} segments, "
                f"speech {r['speech_s']:.0f} s, peak RSS {r['peak_rss_mb']:.0f} MB, {r['wall_s']:.1f} s ({args.backend})"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
