"""The audio store is never stale: a processed copy of a corpus (same names, lengths and rates, other samples)
trains on its own samples, and a file rewritten in place is decoded again and counted (issue 22, item 3)."""

from __future__ import annotations

import shutil

import numpy as np
import soundfile as sf

from hf_ser.config import CorpusSpec
from hf_ser.data.prepare import prepare_corpora
from hf_ser.demo_data import demo_root


def _process(root, gain: float) -> None:
    """What a denoiser does to the corpus as far as the cache can tell: same files, same lengths, new samples."""
    for path in sorted(root.rglob("*.wav")):
        info = sf.info(str(path))
        wave, sr = sf.read(str(path), dtype="float32")
        size = path.stat().st_size
        sf.write(str(path), wave * gain, sr, subtype=info.subtype)
        assert path.stat().st_size == size and sf.info(str(path)).frames == info.frames


def _prepare(root, cache):
    # Exactly what training does before the split (hf_ser.train.run): one prepare_corpora per recipe corpus list.
    return prepare_corpora([CorpusSpec(name="ravdess", root=str(root))], cache_dir=cache, progress=False)


def test_a_processed_copy_and_an_edited_file_use_their_own_samples(tmp_path):
    cache = tmp_path / "cache"
    original = _prepare(demo_root("ravdess"), cache)
    copy = tmp_path / "ravdess_denoised"
    shutil.copytree(demo_root("ravdess"), copy)
    _process(copy, 0.5)
    processed = _prepare(copy, cache)
    assert processed.column("utt_id") == original.column("utt_id")
    np.testing.assert_array_equal(processed.lengths, original.lengths)
    for i in range(len(original.dataset)):
        new, _ = sf.read(str(copy / original.column("rel_path")[i]), dtype="float32")
        np.testing.assert_array_equal(processed.wave(i), new)
    assert not np.allclose(processed.wave(0), original.wave(0))
    assert processed.report()["ravdess"]["audio_store"]["content_changed"] == 0  # a new root, not a change
    # The same copy edited in place: every file is decoded again, and the data report says how many changed.
    _process(copy, -1.0)
    edited = _prepare(copy, cache)
    np.testing.assert_array_equal(edited.wave(3), -processed.wave(3))
    assert edited.report()["ravdess"]["audio_store"]["content_changed"] == len(original.dataset)
