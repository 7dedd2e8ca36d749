"""Flat private memory through evaluation passes (hf_ser.evaluation.heap): freed heap pages go back to the
system, and trimming changes no figure."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from accelerate import Accelerator
from eval_fixtures import tiny_classifier

import hf_ser.evaluation.heap as heap
from hf_ser.evaluation.heap import HeapTrimmer, status_kb
from hf_ser.evaluation.inference import window_loader
from hf_ser.training.predictions import predict_split


def test_a_heap_holding_freed_blocks_between_live_ones_is_given_back():
    trimmer = HeapTrimmer(slack_mb=8)
    if not trimmer.enabled:
        pytest.skip("needs glibc's malloc_trim and /proc/self/status")
    kept, freed = [], []
    for i in range(800):  # ~80 MB of ~100 KB blocks (heap, not mmap), every other one kept alive
        (kept if i % 2 else freed).append(np.ones(25_000 + i, np.float32))
    del freed  # ~40 MB free, in holes between live blocks: the top of the heap cannot shrink
    held = status_kb("RssAnon")
    trimmer()  # grown past the slack since the trimmer was made: trims
    assert trimmer.trims == 2  # at construction, and now
    assert held - status_kb("RssAnon") > 20 * 1024  # most of the freed 40 MB went back
    assert sum(int(a[0]) for a in kept) == 400  # the live blocks are intact


def test_predict_split_trims_the_heap_and_gives_the_same_logits(monkeypatch):
    model = tiny_classifier()
    rng = np.random.default_rng(0)
    waves = [rng.standard_normal(n).astype(np.float32) * 0.1 for n in range(1600, 4800, 100)]  # 32 clips

    def predict():
        loader = window_loader(lambda i: waves[i], [len(w) for w in waves], window=16_000, batch_size=4,
                               label_ids=[i % 2 for i in range(len(waves))])
        return predict_split(Accelerator(cpu=True), model, loader)

    made = []
    real_init = HeapTrimmer.__init__

    def recording_init(self, slack_mb=heap.SLACK_MB):
        real_init(self, slack_mb=0)  # trim after every batch that grew memory at all
        made.append(self)

    monkeypatch.setattr(HeapTrimmer, "__init__", recording_init)
    trimmed = predict()
    assert len(made) == 1 and (made[0].trims >= 1 or not made[0].enabled)
    monkeypatch.setattr(heap, "_malloc_trim", lambda: None)  # no trimming at all
    plain = predict()
    assert trimmed.logits.shape == (32, model.config.num_labels)
    assert trimmed.logits.tobytes() == plain.logits.tobytes()
    assert np.array_equal(trimmed.indices, plain.indices) and np.array_equal(trimmed.labels, plain.labels)
    torch.testing.assert_close(torch.tensor(trimmed.loss), torch.tensor(plain.loss), rtol=0, atol=0)
