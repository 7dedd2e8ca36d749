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

Speech + text models: the transcripts' token ids pass through to the head (``forward_from_frozen``). When the
text encoder is wholly frozen and carries no LoRA (``text_output_cacheable``), its output is a pure function of
the clip's tokens (tokenized once per clip, never augmented), so it is cached too, per clip, in the same cache
(same budget and storage dtype; counted as ``text_hits`` / ``text_misses``, ``text_clips``), for every clip with
a transcript, cropped or not. Modality dropout replaces the encoded transcript after the encoder, so it stays
random per step.

Entries are the clip's real frames only, ``(frames, hidden)``, stored in float16 (or bfloat16) in RAM under a
byte budget; a clip that does not fit is recomputed every epoch. One XLSR layer output in 16 bits is ~102 KB
per audio-second (2.6 GB for 7 h of audio).

No host-device sync in a step (on a GPU): clip keys and lengths come from the collator as host integers, rows
are picked with index tensors copied without blocking, entries go to page-locked RAM (``pin``) or stay on the
device, and the float16 overflow check of new entries is a device flag read for all of them at once when
training (re)starts (``FrozenCacheModel.train``: the loop calls it at every epoch start); an entry looked up
before that (a clip drawn twice in one epoch) brings the check forward. bfloat16 needs no check. One cost stays: with entries in pageable RAM (``device="cpu"``
without ``pin``) on a GPU, storing an entry is a blocking device-to-host copy, in the epochs that fill the cache.

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
    rejected: int = 0  # computed entries that were cacheable but over the budget (or not finite in the storage dtype)
    text_hits: int = 0  # transcripts whose encoder output came from the cache (speech + text models)
    text_misses: int = 0  # transcripts encoded


@dataclass(frozen=True)
class TextKey:
    """The cache key of a clip's encoded transcript (beside the clip's own key, which holds its frozen frames)."""

    clip: Hashable


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
        # Entries whose float16 overflow check is still a device flag (read together by check_pending).
        self._pending: dict[Hashable, torch.Tensor] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        if key in self._pending:  # serve it only once it is known to be finite (one read for all pending)
            self.check_pending()
        return key in self._entries

    def check_pending(self) -> None:
        """Drop the entries stored since the last check that overflowed the storage dtype: one host read of a
        flag per entry, all at once (the only host-device sync of the cache)."""
        if not self._pending:
            return
        keys = list(self._pending)
        finite = torch.stack([self._pending[k] for k in keys]).tolist()
        self._pending.clear()
        for key, ok in zip(keys, finite):
            if not ok:
                stored = self._entries.pop(key)
                self.nbytes -= stored.numel() * stored.element_size()
                self.stats.rejected += 1

    def summary(self) -> dict:
        """Counts for ``metrics.json``: hits, misses, rejected, clips (frozen outputs stored), MB (pending checks
        done first); with encoded transcripts also text_hits, text_misses, text_clips."""
        self.check_pending()
        text_clips = sum(1 for key in self._entries if isinstance(key, TextKey))
        counts = {"hits": self.stats.hits, "misses": self.stats.misses, "rejected": self.stats.rejected,
                  "clips": len(self) - text_clips, "mb": round(self.nbytes / 2**20, 1)}
        if self.stats.text_hits or self.stats.text_misses:
            counts.update(text_hits=self.stats.text_hits, text_misses=self.stats.text_misses, text_clips=text_clips)
        return counts

    def get(self, key: Hashable) -> torch.Tensor:
        """The stored ``(frames, hidden)`` tensor of ``key`` (storage dtype, on the cache's device)."""
        return self._entries[key]

    def put(self, key: Hashable, hidden: torch.Tensor) -> bool:
        """Store ``hidden: (frames, hidden)`` for ``key``; False when it does not fit.

        Reads nothing on the host. Storing in float16 what was wider (float16 overflows above 65504) records a
        finiteness flag on the device: ``check_pending`` later drops a clip that overflowed (it is then
        recomputed rather than served as inf) and counts it as rejected.
        """
        if key in self._entries:
            return True
        size = hidden.numel() * torch.finfo(self.dtype).bits // 8
        if self.nbytes + size > self.budget_bytes:
            self.stats.rejected += 1
            return False
        converted = hidden.detach().to(self.dtype, copy=True).contiguous()  # a copy: never a view of the batch
        if self.dtype == torch.float16 and hidden.dtype != torch.float16:
            self._pending[key] = torch.isfinite(converted).all()
        if self.device.type != "cpu":
            stored = converted.to(self.device, non_blocking=True)  # already there: no copy
        elif converted.device.type == "cpu":
            stored = converted
        else:
            # Page-locked: the copy is queued behind the computation (asynchronous); pageable: a blocking copy.
            stored = torch.empty(converted.shape, dtype=self.dtype, pin_memory=self.pin)
            stored.copy_(converted, non_blocking=self.pin)
        if self.pin and not stored.is_pinned():
            stored = stored.pin_memory()
        self._entries[key] = stored
        self.nbytes += size
        return True

    def clear(self) -> None:
        self._entries.clear()
        self._pending.clear()
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

    def train(self, mode: bool = True) -> FrozenCacheModel:
        super().train(mode)
        if mode:  # an epoch starts (the loop calls model.train()): check the last epoch's new entries, outside any step
            self.cache.check_pending()
        return self

    def forward(
        self,
        input_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        dims: torch.Tensor | None = None,
        cache_keys: Sequence[Hashable] | None = None,
        cacheable: Sequence[bool] | None = None,
        input_lengths: Sequence[int] | None = None,
        text_input_ids: torch.Tensor | None = None,
        text_attention_mask: torch.Tensor | None = None,
        text_lengths: Sequence[int] | None = None,
    ):
        """As the model's forward; rows whose key is cached skip the frozen part.

        Args:
            input_values: (batch, samples) normalised waveform.
            attention_mask: (batch, samples), 1 on real samples.
            labels: (batch,) class ids.
            dims: (batch, n_dims) regression targets.
            cache_keys: one key per row (e.g. the training dataset index) as host values; None: no caching.
            cacheable: per row, whether its waveform is the same every epoch (see the module docstring);
                None: every row is.
            input_lengths: real samples per row as host integers (the collator's); None: read from
                ``attention_mask`` (a host-device sync).
            text_input_ids, text_attention_mask: (batch, tokens) transcripts of a speech + text model (as the
                model's forward).
            text_lengths: real tokens per row as host integers (the collator's); None: read from
                ``text_attention_mask`` when the encoded transcripts are cached (a host-device sync).

        Returns:
            The model's output.
        """
        text = {"text_input_ids": text_input_ids, "text_attention_mask": text_attention_mask}
        if cache_keys is None or not self.training:
            return self.model(
                input_values, attention_mask=attention_mask, labels=labels, dims=dims, input_lengths=input_lengths, **text
            )
        batch = input_values.shape[0]
        if input_lengths is None:
            input_lengths = attention_mask.sum(dim=1).tolist() if attention_mask is not None else [input_values.shape[1]] * batch
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
            lengths = [int(input_lengths[i]) for i in miss]
            # Trim the sub-batch to its own longest clip: fewer padded frames to compute.
            longest = max(lengths)
            values, mask = input_values[:, :longest], attention_mask[:, :longest]
            if len(miss) < batch:
                # An index tensor copied without blocking (indexing with a Python list copies it blocking).
                rows_index = torch.tensor(miss).to(input_values.device, non_blocking=True)
                values, mask = values.index_select(0, rows_index), mask.index_select(0, rows_index)
            hidden, _ = self.model.frozen_features(values, mask, input_lengths=lengths)
            for j, (i, frames) in enumerate(zip(miss, self.model.frame_lengths(lengths))):
                rows[i] = hidden[j, :frames]
                if cacheable[i]:
                    self.cache.put(keys[i], rows[i])
        self.cache.stats.hits += batch - len(miss)
        self.cache.stats.misses += len(miss)
        hidden, frame_mask = pad_frames(rows, like=input_values)
        text_hidden = None
        if text_input_ids is not None and self.model.text_output_cacheable() is None:
            text_hidden = self._encoded_text(keys, text_input_ids, text_attention_mask, text_lengths, like=hidden)
        return self.model.forward_from_frozen(
            hidden, frame_mask, labels=labels, dims=dims, frame_lengths=[int(r.shape[0]) for r in rows],
            text_hidden=text_hidden, **text,
        )

    def _encoded_text(
        self,
        keys: list[Hashable],
        text_input_ids: torch.Tensor,
        text_attention_mask: torch.Tensor | None,
        text_lengths: Sequence[int] | None,
        *,
        like: torch.Tensor,
    ) -> torch.Tensor:
        """The text encoder's output ``(batch, tokens, text_hidden)`` for the batch's transcripts, cached ones read
        back, the others encoded (and stored); rows without a transcript are zeros (the model puts its "missing
        text" embedding there)."""
        batch, width = text_input_ids.shape
        if text_attention_mask is None:
            text_attention_mask = text_input_ids.ne(0).long()
        if text_lengths is None:
            text_lengths = text_attention_mask.sum(dim=1).tolist()
        lengths = [int(n) for n in text_lengths]
        size = self.model.config.text_config.hidden_size
        rows: list[torch.Tensor] = [like.new_zeros(0, size)] * batch
        todo = []
        for i in range(batch):
            if lengths[i] and TextKey(keys[i]) in self.cache:
                rows[i] = self.cache.get(TextKey(keys[i]))
            elif lengths[i]:
                todo.append(i)
        if todo:
            longest = max(lengths[i] for i in todo)
            index = torch.tensor(todo).to(text_input_ids.device, non_blocking=True)  # no blocking copy (see forward)
            ids = text_input_ids[:, :longest].index_select(0, index)
            mask = text_attention_mask[:, :longest].index_select(0, index)
            encoded = self.model.encode_text(ids, mask)
            for j, i in enumerate(todo):
                rows[i] = encoded[j, : lengths[i]]
                self.cache.put(TextKey(keys[i]), rows[i])
        self.cache.stats.text_hits += sum(1 for n in lengths if n) - len(todo)
        self.cache.stats.text_misses += len(todo)
        return pad_frames(rows, like=like, length=width)[0]


def pad_frames(
    rows: Sequence[torch.Tensor], *, like: torch.Tensor, length: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack per-clip ``(frames_i, hidden)`` tensors into a padded batch.

    Args:
        rows: one tensor per clip.
        like: a tensor whose device and floating dtype the batch takes.
        length: the padded length; None: the longest row's.

    Returns:
        hidden: (batch, length, hidden), zeros on padding.
        frame_mask: (batch, length) bool, True on real frames.
    """
    longest = max(int(r.shape[0]) for r in rows) if length is None else length
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
