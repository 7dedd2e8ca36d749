import numpy as np
import pytest
import torch
from torch import nn

from hf_ser.data.batching import BucketBatchSampler, ClipDataset, Collator
from hf_ser.data.frozen_cache import FrozenCacheModel, FrozenOutputCache, cacheable_clips, pad_frames
from hf_ser.models import build_model

ID2LABEL = {0: "neutral", 1: "happy", 2: "sad"}


def _model(num_frozen_layers: int = 2, **kwargs):
    model = build_model(
        backbone="shape:tiny", id2label=ID2LABEL, num_frozen_layers=num_frozen_layers, mask_time_prob=0.0, seed=0, **kwargs
    )
    # Dropout above the cut would make two forward passes differ for reasons that are not the cache.
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.p = 0.0
        if isinstance(getattr(module, "dropout", None), float):  # attention dropout is a float, not a module
            module.dropout = 0.0
    return model


def _waves(n: int = 10, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(int(rng.integers(4_000, 20_000))).astype(np.float32) * 0.1 for _ in range(n)]


def test_cached_features_equal_recomputed_alone():
    model = _model().train()
    waves = _waves(4)
    batch = Collator()([{"wave": w, "label": 0, "index": i} for i, w in enumerate(waves)])
    cache = FrozenOutputCache(budget_bytes=10**9)
    FrozenCacheModel(model, cache).train()(
        batch["input_values"], batch["attention_mask"], labels=batch["labels"], cache_keys=[0, 1, 2, 3]
    )
    assert len(cache) == 4 and cache.stats.misses == 4
    for i, w in enumerate(waves):
        alone = torch.from_numpy((w - w.mean()) / np.sqrt(w.var() + 1e-7))[None]
        expected, mask = model.frozen_features(alone)
        stored = cache.get(i)
        assert stored.dtype == torch.float16
        assert stored.shape == expected[0].shape  # real frames only, no padding
        torch.testing.assert_close(stored.float(), expected[0], atol=2e-3 * float(expected.abs().max()), rtol=2e-3)


def test_cache_hits_give_the_same_output_as_the_plain_model():
    model = _model()
    waves = _waves(3)
    batch = Collator()([{"wave": w, "label": i % 3, "index": i} for i, w in enumerate(waves)])
    wrapper = FrozenCacheModel(model, FrozenOutputCache(budget_bytes=10**9)).train()
    args = (batch["input_values"], batch["attention_mask"])
    plain = model(*args, labels=batch["labels"])
    first = wrapper(*args, labels=batch["labels"], cache_keys=[0, 1, 2])
    second = wrapper(*args, labels=batch["labels"], cache_keys=[0, 1, 2])
    assert wrapper.cache.stats.hits == 3 and wrapper.cache.stats.misses == 3
    torch.testing.assert_close(first.logits, plain.logits, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(second.logits, plain.logits, atol=2e-3, rtol=2e-3)
    assert not torch.equal(second.logits, torch.zeros_like(second.logits))


def test_uncacheable_rows_and_budget_are_recomputed():
    model = _model()
    waves = _waves(3)
    batch = Collator()([{"wave": w, "label": 0, "index": i} for i, w in enumerate(waves)])
    one_clip = 2 * 32 * (int(batch["attention_mask"].sum(1).max()) // 320 + 1)  # fp16 bytes of the longest clip
    cache = FrozenOutputCache(budget_bytes=one_clip)
    wrapper = FrozenCacheModel(model, cache).train()
    for _ in range(2):
        wrapper(batch["input_values"], batch["attention_mask"], cache_keys=["a", "b", "c"], cacheable=[True, True, False])
    assert "c" not in cache  # not cacheable (cropped or augmented)
    assert len(cache) == 1 and cache.nbytes <= one_clip  # only one clip fits the budget
    assert cache.stats.rejected == 2  # the second cacheable clip, refused in both epochs


def test_eval_mode_bypasses_the_cache():
    model = _model()
    waves = _waves(2)
    batch = Collator()([{"wave": w, "label": 0, "index": i} for i, w in enumerate(waves)])
    wrapper = FrozenCacheModel(model, FrozenOutputCache(budget_bytes=10**9)).eval()
    wrapper(batch["input_values"], batch["attention_mask"], cache_keys=[0, 1])
    assert len(wrapper.cache) == 0


@pytest.mark.parametrize(
    "kwargs, reason",
    [({"num_frozen_layers": 0}, "no frozen layers"), ({"layers": "weighted"}, "weighted")],
)
def test_refuses_models_whose_cut_output_is_not_cacheable(kwargs, reason):
    model = _model(**kwargs)
    with pytest.raises(ValueError, match=reason):
        FrozenCacheModel(model, FrozenOutputCache(budget_bytes=1))


def test_cacheable_clips_excludes_cropped_and_augmented():
    assert cacheable_clips([100, 200, 300], max_samples=200, augmented=False) == [True, True, False]
    assert cacheable_clips([100, 200], max_samples=None, augmented=True) == [False, False]


def test_pad_frames_masks_padding():
    hidden, mask = pad_frames([torch.ones(3, 4), torch.ones(1, 4)], like=torch.zeros(1))
    assert hidden.shape == (2, 3, 4)
    assert mask.tolist() == [[True, True, True], [True, False, False]]
    assert float(hidden[1, 1:].abs().sum()) == 0.0


def _train(use_cache: bool, epochs: int = 2) -> list[float]:
    torch.manual_seed(0)
    model = _model().train()
    waves = _waves(12, seed=1)
    labels = [i % 3 for i in range(len(waves))]
    dataset = ClipDataset(lambda i: waves[i], labels)
    sampler = BucketBatchSampler([len(w) for w in waves], batch_size=4, seed=0)
    loader = torch.utils.data.DataLoader(dataset, batch_sampler=sampler, collate_fn=Collator())
    net = FrozenCacheModel(model, FrozenOutputCache(budget_bytes=10**9)).train() if use_cache else model
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    losses = []
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        for batch in loader:
            keys = {"cache_keys": batch["index"].tolist()} if use_cache else {}
            loss = net(batch["input_values"], batch["attention_mask"], labels=batch["labels"], **keys).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            losses.append(loss.item())
    if use_cache:
        assert net.cache.stats.hits == len(waves) * (epochs - 1)
    return losses


def test_training_with_the_cache_follows_the_same_loss_trajectory():
    without, with_cache = _train(False), _train(True)
    assert len(without) == len(with_cache) == 6
    np.testing.assert_allclose(with_cache, without, rtol=5e-3, atol=5e-4)
    assert without[0] != without[-1]  # it trained


def _fused_batch(texts: list[str], seed: int = 0) -> dict:
    from hf_ser.models.shapes import text_shape_tokenizer
    from hf_ser.models.text_encoder import tokenize

    ids = tokenize(text_shape_tokenizer("tiny-bert"), texts, max_tokens=64)
    items = [{"wave": w, "label": i % 3, "index": i, "text_ids": t} for i, (w, t) in enumerate(zip(_waves(len(texts), seed), ids))]
    return Collator()(items)


def test_speech_plus_text_rows_use_their_transcripts_and_cached_encodings_give_the_uncached_logits():
    """A fused model behind the cache: the transcripts reach the head, the frozen text encoder's output is cached
    per clip beside the frozen frames, and epoch-2 logits (both from the cache) equal the plain forward."""
    model = _model(text_encoder="shape:tiny-bert", fusion="cross_attention")
    assert model.frozen_output_cacheable() is None and model.text_output_cacheable() is None
    batch = _fused_batch(["Kids are talking by the door", "", "Dogs are sitting by the door"])
    assert batch["text_lengths"] == [29, 0, 29]
    wrapper = FrozenCacheModel(model, FrozenOutputCache(budget_bytes=10**9)).train()
    text = {k: batch[k] for k in ("text_input_ids", "text_attention_mask")}
    args = (batch["input_values"], batch["attention_mask"])
    plain = model(*args, labels=batch["labels"], **text)
    speech_only = model(*args, labels=batch["labels"])
    first = wrapper(*args, labels=batch["labels"], cache_keys=[0, 1, 2], text_lengths=batch["text_lengths"], **text)
    second = wrapper(*args, labels=batch["labels"], cache_keys=[0, 1, 2], text_lengths=batch["text_lengths"], **text)
    summary = wrapper.cache.summary()
    assert (summary["hits"], summary["misses"], summary["clips"]) == (3, 3, 3)
    # The clip without a transcript has no text entry; the other two are encoded once, then served.
    assert (summary["text_hits"], summary["text_misses"], summary["text_clips"]) == (2, 2, 2)
    assert first.text_used.tolist() == [True, False, True]
    torch.testing.assert_close(first.logits, plain.logits, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(second.logits, plain.logits, atol=2e-3, rtol=2e-3)  # float16 storage
    assert not torch.allclose(second.logits[0], speech_only.logits[0], atol=1e-3)  # the transcript is used


def test_a_training_text_encoder_is_run_every_step_behind_the_cache():
    model = _model(text_encoder="shape:tiny-bert", text_num_frozen_layers=1)
    assert "text_num_frozen_layers=1" in model.text_output_cacheable()
    batch = _fused_batch(["Kids are talking by the door", "Dogs"])
    wrapper = FrozenCacheModel(model, FrozenOutputCache(budget_bytes=10**9)).train()
    text = {k: batch[k] for k in ("text_input_ids", "text_attention_mask")}
    for _ in range(2):
        out = wrapper(batch["input_values"], batch["attention_mask"], labels=batch["labels"], cache_keys=[0, 1], **text)
    assert wrapper.cache.stats.hits == 2 and "text_clips" not in wrapper.cache.summary()
    out.loss.backward()  # the text encoder's upper layer gets its gradient through the cache wrapper
    layer = model.text_encoder.encoder.layer[1]
    assert all(p.grad is not None for p in layer.parameters())
