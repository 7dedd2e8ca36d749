"""No host-device synchronisation in a training step that does not log (issue 16, "GPU path").

A GPU step stalls whenever the host needs a value the device computed: ``.item()``, ``bool(t)``, ``int(t)``,
``.tolist()``, ``.numpy()``, ``.cpu()``, and ops whose output shape depends on data (``nonzero``, boolean
indexing, ``masked_select``, ``unique``). This machine has no GPU, so the test counts those calls instead
(``HostReads``): a ``TorchDispatchMode`` sees every aten op (``.item()`` / ``bool()`` / ``int()`` / ``float()``
dispatch to ``aten._local_scalar_dense``), and ``Tensor.tolist`` / ``numpy`` / ``item`` / ``cpu`` are wrapped
(``tolist`` and ``numpy`` of a CPU tensor dispatch nothing).

The window is one step of the real loop (``hf_ser.train.run``): it opens when the loader has handed over the
batch (decoding, collation and the copy to the device are done) and closes when the loop asks for the next
batch, so it holds the forward, the losses, the backward, gradient clipping, the optimizer and scheduler
steps and the loop's bookkeeping. The loop's log steps (``LoopTiming.read``, step 1 and every
``log_every_n_steps``) read on purpose; the test checks that the counter sees those reads (it is not blind)
and that every other step reads nothing. The recipes here validate and checkpoint at epoch ends, which are
outside the window, as are epoch starts (a step that validates or checkpoints mid-epoch reads on purpose too).

What a CPU count cannot see: host<->device copies (every tensor is on the CPU here). Those are made
non-blocking by construction (``FrozenOutputCache``, SpecAugment's span mask, class weights); the cache's
pageable-RAM fill is the documented exception (docs/performance.md, "The GPU path"). The optimizer is the one
a GPU run uses (fused AdamW, step counters on the device); CPU runs keep the default single-tensor AdamW,
which reads its CPU step counters.
"""

from __future__ import annotations

import functools
import traceback
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import hf_ser.train as train
import hf_ser.training.fold as fold
from hf_ser.config import load_recipe
from hf_ser.data.batching import Collator
from hf_ser.data.frozen_cache import FrozenCacheModel
from hf_ser.models import build_model
from hf_ser.training.optim import build_optimizer
from hf_ser.training.timing import LoopTiming

REPO = Path(__file__).parents[1]
DEMO = REPO / "recipes" / "demo"
# Data-dependent output shapes: the host waits for the device to learn the size.
_SHAPE_FROM_DATA = {"nonzero", "masked_select", "unique", "_unique", "_unique2", "unique_consecutive", "unique_dim"}
_READS = {"_local_scalar_dense", "equal", "is_nonzero"}


class HostReads(TorchDispatchMode):
    """Counts host reads of tensor values while active; ``sites`` keeps where each came from."""

    METHODS = ("tolist", "numpy", "item", "cpu")

    def __init__(self):
        super().__init__()
        self.sites: list[str] = []
        self._saved: dict[str, object] = {}

    def _record(self, what: str) -> None:
        frames = [f for f in traceback.extract_stack()[:-2] if "torch/" not in f.filename and "test_host_syncs" not in f.filename]
        where = f"{frames[-1].filename.split('site-packages/')[-1]}:{frames[-1].lineno}" if frames else "?"
        self.sites.append(f"{what} at {where}")

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__
        boolean_index = name in ("index", "index_put", "index_put_") and any(
            isinstance(i, torch.Tensor) and i.dtype == torch.bool for i in (args[1] if len(args) > 1 else ())
        )
        if name in _READS or name in _SHAPE_FROM_DATA or boolean_index:
            self._record(f"aten.{name}")
        return func(*args, **(kwargs or {}))

    def __enter__(self):
        for method in self.METHODS:
            original = getattr(torch.Tensor, method)
            self._saved[method] = original

            @functools.wraps(original)
            def counted(tensor, *args, _original=original, _method=method, **kwargs):
                self._record(f"Tensor.{_method}")
                return _original(tensor, *args, **kwargs)

            setattr(torch.Tensor, method, counted)
        return super().__enter__()

    def __exit__(self, *exc):
        for method, original in self._saved.items():
            setattr(torch.Tensor, method, original)
        return super().__exit__(*exc)


class StepWindows:
    """Opens a ``HostReads`` for every batch the training loop takes; marks the windows that logged."""

    def __init__(self, monkeypatch):
        self.windows: list[HostReads] = []
        self.logged: set[int] = set()
        batches, read = LoopTiming.batches, LoopTiming.read
        windows = self

        def counted_batches(timing, loader):
            for batch in batches(timing, loader):
                reads = HostReads()
                windows.windows.append(reads)
                with reads:
                    yield batch

        def marked_read(timing, num_processes):
            windows.logged.add(len(windows.windows) - 1)
            return read(timing, num_processes)

        monkeypatch.setattr(LoopTiming, "batches", counted_batches)
        monkeypatch.setattr(LoopTiming, "read", marked_read)
        # The optimizer of a GPU run (fused AdamW), see the module docstring.
        monkeypatch.setattr(fold, "build_optimizer", functools.partial(build_optimizer, fused=True))

    def check(self, min_steps: int) -> None:
        quiet = [i for i in range(len(self.windows)) if i not in self.logged]
        assert len(quiet) >= min_steps, (len(self.windows), self.logged)
        found = {i: self.windows[i].sites for i in quiet if self.windows[i].sites}
        assert not found, f"host reads in non-logging training steps: {found}"
        # Not blind: the log steps' own reads (the mean loss, the audio seconds) are seen.
        assert self.logged and all(self.windows[i].sites for i in self.logged)


def _run(tmp_path, monkeypatch, recipe: Path, *overrides: str) -> dict:
    monkeypatch.setenv("HF_SER_CACHE", str(tmp_path / "cache"))
    cfg = load_recipe(
        str(recipe),
        [f"train.output_dir={tmp_path / 'run'}", "train.batch_size=4", "train.log_every_n_steps=1000",
         "data.eval_corpora=[]", *overrides],
    )
    return train.run(cfg)["folds"]


@pytest.mark.parametrize(
    "recipe, overrides",
    [
        # Soft targets, focal loss, class weights, attention pooling, SpecAugment at the cut (time and channels).
        (DEMO / "soft_labels.yaml", ["train.max_steps=6", "model.loss=focal", "model.class_weights=balanced",
                                     "model.pooling=attention", "model.num_frozen_layers=1", "model.freeze_feature_encoder=true",
                                     "model.mask_time_prob=0.3"]),
        # Regression (CCC loss), SpecAugment after the CNN (no frozen layers), gradient accumulation and clipping.
        (DEMO / "dimensional.yaml", ["train.max_steps=3", "model.mask_time_prob=0.3", "train.max_grad_norm=1.0",
                                     "train.grad_accum_steps=2"]),
    ],
    ids=["soft-focal-weights", "regression"],
)
def test_training_steps_make_no_host_reads(tmp_path, monkeypatch, recipe, overrides):
    windows = StepWindows(monkeypatch)
    _run(tmp_path, monkeypatch, recipe, *overrides)
    windows.check(min_steps=4)


def test_frozen_cache_steps_make_no_host_reads(tmp_path, monkeypatch):
    """Two epochs with the frozen-output cache: epoch 1 fills it, epoch 2 mixes hits and misses (the budget holds
    only part of the clips) in the same batches."""
    windows = StepWindows(monkeypatch)
    hits_per_batch: list[tuple[int, int]] = []
    forward = FrozenCacheModel.forward

    def counted_forward(wrapper, input_values, *args, **kwargs):
        before = wrapper.cache.stats.hits
        out = forward(wrapper, input_values, *args, **kwargs)
        hits_per_batch.append((wrapper.cache.stats.hits - before, input_values.shape[0]))
        return out

    monkeypatch.setattr(FrozenCacheModel, "forward", counted_forward)
    folds = _run(
        tmp_path, monkeypatch, DEMO / "ravdess_tiny.yaml",
        "train.epochs=2", "model.num_frozen_layers=2", "model.freeze_feature_encoder=true", "data.augment=[]",
        "data.max_duration_s=20.0", "model.mask_time_prob=0.3", "train.frozen_cache_mb=0.25",
    )
    cache = folds[0]["frozen_cache"]
    assert cache["hits"] > 0 and cache["misses"] > cache["clips"] > 0  # fills, hits, and clips over the budget
    assert any(0 < hits < rows for hits, rows in hits_per_batch)  # batches that mix cached and computed rows
    windows.check(min_steps=10)


def _waves(lengths: list[int]) -> dict:
    rng = np.random.default_rng(0)
    return Collator()([{"wave": rng.standard_normal(n).astype(np.float32), "label": i % 2, "index": i} for i, n in enumerate(lengths)])


@pytest.mark.parametrize("backbone", ["shape:tiny", "shape:tiny-wavlm", "shape:tiny-data2vec-audio", "shape:tiny-whisper"])
@pytest.mark.parametrize("lengths", [[16_000, 9_000, 12_345], [9_600, 9_600]], ids=["padded", "unpadded"])
def test_forward_and_backward_make_no_host_reads(lengths, backbone):
    """The model alone, padded and unpadded batches, SpecAugment on (not for Whisper, which has none): nothing
    read with the collator's lengths, and the same output as without them (where the masks and SpecAugment spans
    are read from the device)."""
    spec_augment = None if "whisper" in backbone else 0.3
    model = build_model(backbone=backbone, id2label={0: "a", 1: "b"}, num_frozen_layers=1, mask_time_prob=spec_augment, seed=0, dropout=0.0).train()
    batch = _waves(lengths)
    args = dict(input_values=batch["input_values"], attention_mask=batch["attention_mask"], labels=batch["labels"])
    outputs = []
    for input_lengths in (batch["input_lengths"], None):
        np.random.seed(0)
        torch.manual_seed(0)
        with HostReads() as reads:
            out = model(**args, input_lengths=input_lengths)
            out.loss.backward()
        outputs.append(out.logits.detach())
        if input_lengths is not None:
            assert not reads.sites, reads.sites
        else:
            assert reads.sites  # without host lengths the masks are read: the counter sees it
    torch.testing.assert_close(outputs[0], outputs[1], rtol=1e-5, atol=1e-6)


def test_unpadded_batch_gets_no_attention_mask():
    """A batch without padding frames gives SDPA no mask (its fastest kernels), decided on the host."""
    model = build_model(backbone="shape:tiny", id2label={0: "a", 1: "b"}, num_frozen_layers=1, seed=0).eval()
    masks = []
    real = model._layer_attention_mask
    model._layer_attention_mask = lambda *a, **k: masks.append(real(*a, **k)) or masks[-1]
    for lengths in ([9_600, 9_600], [9_600, 5_000]):
        batch = _waves(lengths)
        model(batch["input_values"], batch["attention_mask"], input_lengths=batch["input_lengths"])
    # Two calls per forward (below and above the cut): no mask without padding, a mask with it.
    assert masks[0] is None and masks[1] is None and masks[2] is not None and masks[3] is not None


@pytest.mark.parametrize("backbone", ["shape:tiny", "shape:tiny-whisper"])
def test_host_frame_lengths_match_the_device_frame_mask(backbone):
    model = build_model(backbone=backbone, id2label={0: "a", 1: "b"}, seed=0).eval()
    lengths = [400, 719, 720, 1_000, 3_201, 16_000, 16_001]
    batch = _waves(lengths)
    with torch.no_grad():
        _, frame_mask = model.encode(batch["input_values"], batch["attention_mask"])
    assert model.frame_lengths(lengths) == frame_mask.sum(dim=1).tolist()


def test_static_masks_trace_without_a_graph_break():
    """Under ``train.compile`` the masks come from shapes (``_static_masks``): dynamo traces the whole forward
    as one graph (the device-read branch broke it), with the same logits as the padding-aware masks."""
    model = build_model(backbone="shape:tiny", id2label={0: "a", 1: "b"}, num_frozen_layers=1, seed=0).eval()
    batch = _waves([16_000, 9_000])
    with torch.no_grad():
        expected = model(batch["input_values"], batch["attention_mask"]).logits
        model._static_masks = True
        torch._dynamo.reset()
        explained = torch._dynamo.explain(model)(batch["input_values"], batch["attention_mask"])
        static = model(batch["input_values"], batch["attention_mask"]).logits
    assert explained.graph_break_count == 0 and explained.graph_count == 1
    torch.testing.assert_close(static, expected, rtol=1e-5, atol=1e-6)
