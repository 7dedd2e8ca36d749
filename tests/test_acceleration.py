"""GPU-path settings, checked on the CPU: each is off (or a no-op) by default and does what it says when on."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hf_ser.acceleration import accelerator_kwargs, compile_pad_lengths
from hf_ser.config import TrainConfig
from hf_ser.data.batching import Collator, pad_ladder
from hf_ser.data.frozen_cache import FrozenOutputCache
from hf_ser.data.loaders import loader_kwargs
from hf_ser.models import build_model


def test_defaults_leave_a_cpu_run_unchanged():
    tc = TrainConfig()
    assert not tc.compile and tc.frozen_cache_device == "cpu"
    assert compile_pad_lengths(tc, 8_000, 320_000) == ()
    assert "dynamo_plugin" not in accelerator_kwargs(tc)
    assert accelerator_kwargs(tc)["dataloader_config"].non_blocking is torch.cuda.is_available()
    if not torch.cuda.is_available():
        assert loader_kwargs(0) == {}


def test_pad_ladder_is_short_geometric_and_covers_the_longest():
    ladder = pad_ladder(20 * 16_000, shortest=8_000)
    assert ladder[0] == 8_000 and ladder[-1] >= 320_000 and len(ladder) <= 20
    assert all(n % 320 == 0 for n in ladder)
    assert all(1.2 <= b / a <= 1.3 for a, b in zip(ladder, ladder[1:]))
    tc = TrainConfig(compile=True)
    assert compile_pad_lengths(tc, 8_000, 320_000) == ladder
    assert torch._dynamo.config.cache_size_limit >= len(ladder)
    assert accelerator_kwargs(tc)["dynamo_plugin"].backend.value.lower() == "inductor"


def test_collator_pads_to_the_smallest_fitting_rung():
    items = [{"wave": np.ones(n, np.float32), "label": 0, "index": i} for i, n in enumerate((9_000, 12_345))]
    batch = Collator(pad_lengths=(8_000, 16_000, 20_160))(items)
    assert batch["input_values"].shape == (2, 16_000)
    assert batch["attention_mask"].sum(dim=1).tolist() == [9_000, 12_345]
    longer = [{"wave": np.ones(30_000, np.float32), "label": 0, "index": 0}]
    assert Collator(pad_lengths=(8_000, 16_000))(longer)["input_values"].shape == (1, 30_080)  # falls back to 320s


class _Threads(torch.utils.data.Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        return torch.get_num_threads()


def test_loader_workers_run_one_thread_each():
    kwargs = loader_kwargs(1)
    assert kwargs["persistent_workers"] is True
    threads = list(torch.utils.data.DataLoader(_Threads(), batch_size=None, num_workers=1, **kwargs))
    assert threads == [1, 1]


def test_attention_kernel_is_selectable_and_sdpa_matches_eager():
    kwargs = dict(backbone="shape:tiny", id2label={0: "a", 1: "b"}, num_frozen_layers=1, seed=0, dropout=0.0)
    default, eager = build_model(**kwargs), build_model(**kwargs, attn_implementation="eager")
    sdpa = build_model(**kwargs, attn_implementation="sdpa")
    assert default.backbone.config._attn_implementation == "sdpa"
    assert eager.backbone.config._attn_implementation == "eager"
    torch.manual_seed(0)
    x, mask = torch.randn(2, 16_000), torch.ones(2, 16_000, dtype=torch.long)
    mask[1, 9_000:] = 0
    with torch.no_grad():
        a = sdpa.eval()(x, attention_mask=mask).logits
        b = eager.eval()(x, attention_mask=mask).logits
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def test_frozen_cache_device_and_pinning():
    cache = FrozenOutputCache(budget_bytes=2**20, dtype="bfloat16", device="cpu", pin=True)
    assert cache.pin is torch.cuda.is_available()  # pinning needs CUDA; silently off on a CPU machine
    assert cache.put("k", torch.randn(5, 8))
    assert cache.get("k").dtype == torch.bfloat16 and cache.get("k").device.type == "cpu"
    with pytest.raises(KeyError, match="unknown cache dtype"):
        FrozenOutputCache(budget_bytes=1, dtype="int8")
