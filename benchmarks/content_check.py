"""What the audio store's content check costs a warm start: ``hf_ser.data.store.content_hashes`` over N clips.

The first call hashes every file in full (what a first build, or a touched file, costs); later calls stat each
file and hash its first and last 4 KB, reusing the recorded full hash. Prints both, per clip too::

    python -m benchmarks.content_check [--clips 2000] [--seconds 3.0]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from hf_ser.audio import SAMPLE_RATE
from hf_ser.data.store import content_hashes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = []
        for i in range(args.clips):
            path = root / f"{i}.wav"
            sf.write(path, (0.1 * rng.standard_normal(int(args.seconds * SAMPLE_RATE))).astype(np.float32), SAMPLE_RATE, subtype="PCM_16")
            paths.append(str(path))
        start = time.perf_counter()
        content_hashes(paths, root / "memo.json")
        first = time.perf_counter() - start
        warm = []
        for _ in range(3):
            start = time.perf_counter()
            content_hashes(paths, root / "memo.json")
            warm.append(time.perf_counter() - start)
    best = min(warm)
    print(
        f"{args.clips} clips of {args.seconds:g} s: first (full hash) {first:.3f} s; warm (stat + edges, best of 3) "
        f"{best:.3f} s = {best / args.clips * 1e6:.0f} us a clip"
    )


if __name__ == "__main__":
    main()
