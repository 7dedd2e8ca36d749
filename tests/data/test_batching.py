import numpy as np
import pytest
import torch

from hf_ser.data.batching import BucketBatchSampler, ClipDataset, Collator


def _lengths(n=203, seed=0):
    # IEMOCAP-like spread: many short clips, a long tail.
    rng = np.random.default_rng(seed)
    return (rng.lognormal(mean=np.log(3.0), sigma=0.6, size=n) * 16_000).astype(int)


@pytest.mark.parametrize("replicas", [1, 2, 3])
@pytest.mark.parametrize("budget", [None, 16_000 * 40])
def test_every_clip_exactly_once_and_even_across_processes(replicas, budget):
    lengths = _lengths()
    s = BucketBatchSampler(lengths, batch_size=8, max_batch_samples=budget, num_replicas=replicas, seed=1)
    for epoch in range(3):
        batches = s.batches(epoch)
        flat = sorted(i for b in batches for i in b)
        assert flat == list(range(len(lengths)))
        assert len(batches) % replicas == 0
        if budget:
            assert all(len(b) * lengths[b].max() <= budget or len(b) == 1 for b in batches)


def test_deterministic_and_epoch_dependent():
    lengths = _lengths()
    a = BucketBatchSampler(lengths, batch_size=8, seed=3)
    b = BucketBatchSampler(lengths, batch_size=8, seed=3)
    assert a.batches(0) == b.batches(0)
    assert a.batches(0) != a.batches(1)
    assert a.batches(0) != BucketBatchSampler(lengths, batch_size=8, seed=4).batches(0)


def test_bucketing_removes_padding():
    lengths = _lengths(n=2000)
    bucketed = BucketBatchSampler(lengths, batch_size=32, seed=0).real_frame_fraction()
    random = BucketBatchSampler(lengths, batch_size=32, seed=0, bucket=False).real_frame_fraction()
    assert bucketed > 0.95
    assert random < 0.7
    assert bucketed > random


def test_resume_mid_epoch_yields_the_remaining_batches():
    lengths = _lengths()
    s = BucketBatchSampler(lengths, batch_size=8, seed=0, num_replicas=2)
    full = s.batches(2)
    s.resume_at(2, start_batch=6)
    s.set_epoch(2)  # what accelerate does at each iteration start: the offset survives
    assert list(s) == full[6:]
    assert list(s) == full  # the offset applies to one pass only
    s.resume_at(2, start_batch=6)
    s.set_epoch(3)  # a new epoch starts from its first batch
    assert list(s) == s.batches(3)


def test_eval_order_is_sorted_and_fixed():
    lengths = _lengths()
    s = BucketBatchSampler(lengths, batch_size=8, shuffle=False)
    flat = [i for b in s.batches(0) for i in b]
    assert flat == sorted(flat, key=lambda i: (lengths[i], i)) or np.all(np.diff(lengths[flat]) >= 0)
    assert s.batches(0) == s.batches(5)


def test_balanced_sampling_evens_classes():
    labels = np.array([0] * 90 + [1] * 10)
    weights = 1.0 / np.bincount(labels)[labels]
    s = BucketBatchSampler(np.full(100, 16_000), batch_size=10, weights=weights, seed=0)
    drawn = [labels[i] for e in range(20) for b in s.batches(e) for i in b]
    share = np.mean(drawn)
    assert 0.4 < share < 0.6


def test_collator_pads_masks_and_normalises():
    waves = [np.linspace(-1, 1, 500).astype(np.float32) * 3 + 2, np.ones(100, dtype=np.float32) * 0.5]
    items = [{"wave": w, "label": i, "index": i} for i, w in enumerate(waves)]
    batch = Collator()(items)
    assert batch["input_values"].shape == (2, 640)  # padded to a multiple of one 320-sample frame
    assert batch["attention_mask"].sum(1).tolist() == [500, 100]
    real = batch["input_values"][0, :500]
    assert abs(real.mean().item()) < 1e-4 and abs(real.std(unbiased=False).item() - 1) < 1e-3
    assert torch.all(batch["input_values"][:, 500:][0] == 0)
    assert batch["labels"].tolist() == [0, 1]


def test_clip_dataset_crops_reproducibly():
    wave = np.arange(10_000, dtype=np.float32)
    ds = ClipDataset(lambda i: wave, [0, 1], max_samples=1000, seed=7)
    a, b = ds[0]["wave"], ds[0]["wave"]
    assert len(a) == 1000 and np.array_equal(a, b)
    ds.set_epoch(1)
    assert not np.array_equal(ds[0]["wave"], a)  # a different crop each epoch
    assert np.array_equal(np.diff(a), np.ones(999))  # a contiguous window of the clip


@pytest.mark.parametrize("shuffle, replicas", [(True, 2), (False, 1)])  # training batches; evaluation batches
def test_budget_batches_reach_every_process_whole(shuffle, replicas):
    """Under ``accelerate`` every batch of a sample budget reaches a process whole: the shard wrapper keeps
    batches of any size (given a ``batch_size`` number it would drop every batch of another size)."""
    from accelerate.data_loader import BatchSamplerShard

    lengths = np.random.default_rng(0).integers(100, 1000, size=200)
    sampler = BucketBatchSampler(lengths, max_batch_samples=4000, num_replicas=replicas, shuffle=shuffle, seed=0)
    shards = [list(BatchSamplerShard(sampler, num_processes=2, process_index=p)) for p in range(2)]
    assert len(shards[0]) == len(shards[1])  # the same number of steps on both processes
    got = sorted(tuple(b) for shard in shards for b in shard)
    want = sorted(tuple(b) for b in sampler.batches())
    assert set(got) == set(want)  # every batch, unsplit
    if replicas == 2:
        assert got == want  # the sampler already evens the count: nothing repeated
