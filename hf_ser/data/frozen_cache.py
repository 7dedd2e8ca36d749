"""Cache the frozen part's output across epochs: run only the trainable layers from the second epoch on.

With ``num_frozen_layers > 0`` everything below the cut (CNN, projection, positional conv, frozen layers) runs
in eval mode without autograd, so its output for a clip is a pure function of the clip's waveform. When the
recipe feeds the same waveform every epoch, that output can be computed once and reused.

When a clip is cacheable (decided by the caller, per clip):
    * no waveform augmentation of the clip (speed, noise, splicing, word swap change the waveform), and
    * no random crop: the clip is not longer than the training crop (``max_samples``). Longer clips get a new
      crop every epoch; they are recomputed, never cached. We chose recomputing over "cache the whole clip and
      crop frames" because frames of a crop run alone differ from frames cut out of the whole clip (attention
      and the positional conv see the rest of the clip), so the cache would silently change the recipe.
The model side is checked by ``SerForSequenceClassification.frozen_output_cacheable`` (a cut exists, CNN
frozen, no weighted layer sum, no position bias crossing the cut). SpecAugment runs at the cut, above the
cached part, so it stays random per epoch.

Entries are the clip's real frames only, ``(frames, hidden)``, stored in float16 (or bfloat16) in RAM under a
byte budget; a clip that does not fit is recomputed every epoch. One XLSR layer output in 16 bits is ~102 KB
per audio-second (2.6 GB for 7 h of audio).

Padding invariance: for layer-norm CNNs (XLSR, XLS-R, HuBERT/WavLM/data2vec large) a clip's frames do not
depend on the batch's padding, so cached frames equal recomputed ones up to the storage precision. Group-norm
CNNs (wav2vec2-base) normalise over time including padding; their cut output already changes with the batch
composition, and caching fixes it to the first epoch's batch.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

logger = logging.getLogger(__name__)

STORAGE_DTYPES: dict[str, torch.dtype] = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}


@dataclass
class CacheStats:
    """Counters since the cache was made: rows served from the cache, rows computed, rows that did not fit."""

    hits: int = 0
    misses: int = 0
    rejected: int = 0  # computed rows that were cacheable but over the budget (or not finite in the storage dtype)


class FrozenOutputCache:
    """Hidden states at the freezing cut per clip key, under a byte budget.

    Args:
        budget_bytes: most bytes of stored tensors; clips beyond it are recomputed each epoch.
        dtype: storage dtype name, a key of ``STORAGE_DTYPES``.
        device: where entries live: ``cpu`` (RAM) or the accelerator (no copies back each step).
        pin: page-locked RAM for entries on the CPU (asynchronous copies to a GPU); ignored without CUDA.
    """

    def __init__(
        self, *, budget_bytes: int, dtype: str = "float16", device: str | torch.device = "cpu", pin: bool = False
    ):
        if dtype not in STORAGE_DTYPES:
            raise KeyError(f"unknown cache dtype {dtype!r}; choose one of {sorted(STORAGE_DTYPES)}")
        self.budget_bytes = int(budget_bytes)
        self.dtype = STORAGE_DTYPES[dtype]
        self.device = torch.device(device)
        # Page-locked host memory makes the copy back to the GPU asynchronous; it needs CUDA.
        self.pin = bool(pin) and self.device.type == "cpu" and torch.cuda.is_available()
        self.nbytes = 0
        self.stats = CacheStats()
        self._entries: dict[Hashable, torch.Tensor] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def get(self, key: Hashable) -> torch.Tensor:
        """The stored ``(frames, hidden)`` tensor of ``key`` (storage dtype, on the cache's device)."""
        return self._entries[key]

    def put(self, key: Hashable, hidden: torch.Tensor) -> bool:
        """Store ``hidden: (frames, hidden)`` for ``key``; False when it does not fit or is not finite."""
        if key in self._entries:
            return True
        stored = hidden.detach().to(device=self.device, dtype=self.dtype).contiguous()
        if self.pin:
            stored = stored.pin_memory()
        size = stored.numel() * stored.element_size()
        # float16 overflows above 65504: such a clip is recomputed rather than cached as inf.
        if self.nbytes + size > self.budget_bytes or not bool(torch.isfinite(stored).all()):
            self.stats.rejected += 1
            return False
        self._entries[key] = stored
        self.nbytes += size
        return True

    def clear(self) -> None:
        self._entries.clear()
        self.nbytes = 0


class FrozenCacheModel(nn.Module):
    """Wraps a ``SerForSequenceClassification`` so that training batches reuse cached frozen outputs.

    Prepare this wrapper (not the bare model) with ``accelerator.prepare`` so DDP sees the forward. Outside
    training mode, or without ``cache_keys``, it is exactly ``model(...)``; save ``wrapper.model``.

    Args:
        model: the model (``model.frozen_output_cacheable()`` must be None).
        cache: where the frozen outputs go.
    """

    def __init__(self, model: nn.Module, cache: FrozenOutputCache):
        super().__init__()
        reason = model.frozen_output_cacheable()
        if reason is not None:
            raise ValueError(f"the frozen-output cache cannot be used: {reason}")
        self.model = model
        self.cache = cache

    def forward(
        self,
        input_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        dims: torch.Tensor | None = None,
        cache_keys: Sequence[Hashable] | None = None,
        cacheable: Sequence[bool] | None = None,
    ):
        """As the model's forward; rows whose key is cached skip the frozen part.

        Args:
            input_values: (batch, samples) normalised waveform.
            attention_mask: (batch, samples), 1 on real samples.
            labels: (batch,) class ids.
            dims: (batch, n_dims) regression targets.
            cache_keys: one key per row (e.g. the training dataset index); None: no caching.
            cacheable: per row, whether its waveform is the same every epoch (see the module docstring);
                None: every row is.

        Returns:
            The model's output.
        """
        if cache_keys is None or not self.training:
            return self.model(input_values, attention_mask=attention_mask, labels=labels, dims=dims)
        batch = input_values.shape[0]
        if attention_mask is None:
            attention_mask = torch.ones_like(input_values, dtype=torch.long)
        cacheable = [True] * batch if cacheable is None else [bool(c) for c in cacheable]
        keys = list(cache_keys)
        hit = [cacheable[i] and keys[i] in self.cache for i in range(batch)]
        rows: list[torch.Tensor | None] = [None] * batch
        for i in range(batch):
            if hit[i]:
                rows[i] = self.cache.get(keys[i])
        miss = [i for i in range(batch) if not hit[i]]
        if miss:
            samples = attention_mask[miss].sum(dim=1)
            # Trim the sub-batch to its own longest clip: fewer padded frames to compute.
            longest = int(samples.max())
            hidden, frame_mask = self.model.frozen_features(input_values[miss, :longest], attention_mask[miss, :longest])
            for j, i in enumerate(miss):
                frames = hidden[j, : int(frame_mask[j].sum())]
                rows[i] = frames
                if cacheable[i]:
                    self.cache.put(keys[i], frames)
        self.cache.stats.hits += batch - len(miss)
        self.cache.stats.misses += len(miss)
        return self.model.forward_from_frozen(*pad_frames(rows, like=input_values), labels=labels, dims=dims)


def pad_frames(rows: Sequence[torch.Tensor], *, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack per-clip ``(frames_i, hidden)`` tensors into a padded batch.

    Args:
        rows: one tensor per clip.
        like: a tensor whose device and floating dtype the batch takes.

    Returns:
        hidden: (batch, max frames, hidden), zeros on padding.
        frame_mask: (batch, max frames) bool, True on real frames.
    """
    longest = max(int(r.shape[0]) for r in rows)
    width = int(rows[0].shape[1])
    hidden = torch.zeros(len(rows), longest, width, dtype=like.dtype, device=like.device)
    frame_mask = torch.zeros(len(rows), longest, dtype=torch.bool, device=like.device)
    for i, r in enumerate(rows):
        hidden[i, : r.shape[0]] = r.to(device=like.device, dtype=like.dtype, non_blocking=True)
        frame_mask[i, : r.shape[0]] = True
    return hidden, frame_mask


def cacheable_clips(lengths: Sequence[int], *, max_samples: int | None, augmented: bool) -> list[bool]:
    """Per training clip: is its waveform the same every epoch (no augmentation, not randomly cropped)?"""
    if augmented:
        return [False] * len(lengths)
    return [max_samples is None or int(n) <= max_samples for n in lengths]
