"""One pretend node: prepare a manifest corpus into a cache folder; run by test_store_nodes.py as a subprocess.

Usage: python node_prepare.py MANIFEST_DIR CACHE_DIR OUT_JSON
Counts the clips this process decoded and the corpus loads it ran (each decode is slowed so that two processes
started together really overlap), then writes them with the store's size and a checksum of its samples.
"""

import json
import sys
import time

import numpy as np

import hf_ser.audio
import hf_ser.data.corpus_cache
from hf_ser.config import CorpusSpec
from hf_ser.data.prepare import prepare_corpora


def main(manifest_dir: str, cache_dir: str, out_json: str) -> None:
    decoded, loads = [], []
    real_decode, real_load = hf_ser.audio.load_audio, hf_ser.data.corpus_cache.load_corpus

    def slow_decode(path, target_sr=16_000, **limits):
        decoded.append(str(path))
        time.sleep(0.05)
        return real_decode(path, target_sr, **limits)

    def counted_load(*args, **kwargs):
        loads.append(1)
        return real_load(*args, **kwargs)

    hf_ser.audio.load_audio = slow_decode
    hf_ser.data.corpus_cache.load_corpus = counted_load
    data = prepare_corpora([CorpusSpec(name="manifest", root=manifest_dir)], cache_dir=cache_dir, progress=False)
    store = data.stores["manifest"]
    checksum = float(sum(np.abs(data.wave(i)).sum() for i in range(len(data.dataset))))
    with open(out_json, "w", encoding="utf-8") as f:
        json.dump({"decoded": len(decoded), "loads": len(loads), "clips": len(store), "rows": len(data.dataset),
                   "directory": str(store.directory), "checksum": checksum}, f)


if __name__ == "__main__":
    main(*sys.argv[1:4])
