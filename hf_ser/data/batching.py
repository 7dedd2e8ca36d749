"""Batches by length: the training/evaluation torch datasets, the bucketing sampler, and the collator.

Random batches of speech waste most of their compute on padding (about a third of the frames are real on
IEMOCAP-like lengths); sorting clips of similar length into the same batch brings that to 95 %+.
Everything random here is a pure function of ``(seed, epoch, position)``, so a resumed run draws exactly
what the uninterrupted run would have drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

AugmentFn = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]


class ClipDataset(torch.utils.data.Dataset):
    """Waveforms from an ``AudioStore`` with their label ids.

    Args:
        get_wave: returns the 16 kHz float32 waveform of item ``i``.
        label_ids: class index per item (``-100`` when unknown, e.g. a cross-corpus label outside the model).
        dims: optional ``(items, n_dims)`` float targets for regression / multitask.
        soft: optional ``(items, num_labels)`` target distributions (soft labels); they replace the class ids as
            the batch's ``labels``.
        max_samples: training crop length (random crop when longer); ``None`` keeps whole clips.
        augment: training-only augmentation ``f(wave, index, rng) -> wave``.
        seed: base seed of crops and augmentation.
        text_ids: transcript token ids per item (speech + text models; tokenized once when the data is set up,
            ``[]`` for a clip without a transcript); None: speech only.
    """

    def __init__(
        self,
        get_wave: Callable[[int], np.ndarray],
        label_ids: Sequence[int],
        *,
        dims: np.ndarray | None = None,
        soft: np.ndarray | None = None,
        max_samples: int | None = None,
        augment: AugmentFn | None = None,
        seed: int = 0,
        text_ids: Sequence[Sequence[int]] | None = None,
    ):
        self.get_wave = get_wave
        self.text_ids = text_ids
        self.label_ids = list(label_ids)
        self.dims = dims
        self.soft = soft
        self.max_samples = max_samples
        self.augment = augment
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.label_ids)

    def __getitem__(self, index: int) -> dict:
        wave = self.get_wave(index)
        applied: tuple[str, ...] | None = None
        if self.augment is not None or self.max_samples is not None:
            rng = np.random.default_rng([self.seed, self.epoch, index])
            if self.augment is not None:
                wave = self.augment(wave, index, rng)
                applied = tuple(getattr(self.augment, "last_applied", ()))
            if self.max_samples is not None and len(wave) > self.max_samples:
                start = int(rng.integers(0, len(wave) - self.max_samples + 1))
                wave = wave[start : start + self.max_samples]
        item = {"wave": np.asarray(wave, dtype=np.float32), "label": self.label_ids[index], "index": index}
        if applied is not None:
            item["augmented"] = applied
        if self.dims is not None:
            item["dims"] = self.dims[index]
        if self.soft is not None:
            item["soft"] = self.soft[index]
        if self.text_ids is not None:
            item["text_ids"] = self.text_ids[index]
        return item


@dataclass
class Collator:
    """Pad waveforms into a batch and normalise each clip over its real samples.

    Per-clip zero-mean / unit-variance normalisation is what ``Wav2Vec2FeatureExtractor(do_normalize=True)``
    does, so training sees exactly what the saved feature extractor gives the pipeline at inference time.

    Returns a dict with ``input_values: (batch, samples)``, ``attention_mask: (batch, samples)`` (1 = real),
    ``labels: (batch,)`` class ids, or ``(batch, num_labels)`` float distributions when the items carry soft
    targets, ``index: (batch,)``, ``input_lengths`` and ``host_index`` (real samples and ``index`` per clip as
    Python ints) and, when present, ``dims: (batch, n_dims)``, ``window: (batch,)``,
    ``augmented`` (per clip, the names of the augmentations applied) and, when the items carry transcript token ids,
    ``text_input_ids`` / ``text_attention_mask: (batch, tokens)`` (padded with 0; a clip without a transcript has
    an all-0 mask row) and ``text_lengths`` (real tokens per clip as Python ints).
    """

    normalize: bool = True
    pad_to_multiple_of: int = 320  # one wav2vec2 frame: keeps shapes on few distinct values
    pad_lengths: tuple[int, ...] = ()
    """Fixed lengths to pad to (the shortest that fits; see ``pad_ladder``): static shapes for torch.compile.
    Longer batches fall back to ``pad_to_multiple_of``."""

    def __call__(self, items: list[dict]) -> dict:
        longest = max(len(it["wave"]) for it in items)
        fits = [n for n in self.pad_lengths if n >= longest]
        if fits:
            longest = min(fits)
        elif self.pad_to_multiple_of:
            longest = -(-longest // self.pad_to_multiple_of) * self.pad_to_multiple_of
        values = np.zeros((len(items), longest), dtype=np.float32)
        mask = np.zeros((len(items), longest), dtype=np.int64)
        for row, it in enumerate(items):
            wave = it["wave"]
            if self.normalize:
                wave = (wave - wave.mean()) / np.sqrt(wave.var() + 1e-7)
            values[row, : len(wave)] = wave
            mask[row, : len(wave)] = 1
        batch = {
            "input_values": torch.from_numpy(values),
            "attention_mask": torch.from_numpy(mask),
            "labels": torch.tensor([it["label"] for it in items], dtype=torch.long),
            "index": torch.tensor([it["index"] for it in items], dtype=torch.long),
            # Host copies (plain ints, left on the host by the device transfer): the training step reads clip
            # lengths and keys from these, never from the device tensors (no host-device sync).
            "input_lengths": [len(it["wave"]) for it in items],
            "host_index": [int(it["index"]) for it in items],
        }
        if "soft" in items[0]:  # soft targets: the model's loss reads a 2-D ``labels`` as distributions
            batch["labels"] = torch.tensor(np.stack([it["soft"] for it in items]), dtype=torch.float32)
        if "dims" in items[0]:
            batch["dims"] = torch.tensor(np.stack([it["dims"] for it in items]), dtype=torch.float32)
        if "window" in items[0]:  # evaluation windows (hf_ser.evaluation.inference): which window of the clip
            batch["window"] = torch.tensor([it["window"] for it in items], dtype=torch.long)
        if "text_ids" in items[0]:
            batch.update(pad_tokens([it["text_ids"] for it in items]))
            batch["text_lengths"] = [len(it["text_ids"]) for it in items]  # host copy, as input_lengths
        if "augmented" in items[0]:
            # Names of the augmentations each clip got: the trainer counts them per batch it trains on, so the
            # counts cover exactly the batches consumed (prefetched ones excluded, resumes included).
            batch["augmented"] = [list(it["augmented"]) for it in items]
        return batch


def pad_tokens(rows: Sequence[Sequence[int]]) -> dict[str, torch.Tensor]:
    """``text_input_ids`` and ``text_attention_mask`` ``(rows, longest or 1)``, padded with 0 (the pad id of
    BERT-style tokenizers and ``ByT5Tokenizer``)."""
    ids = np.zeros((len(rows), max([1, *map(len, rows)])), dtype=np.int64)
    for row, tokens in enumerate(rows):
        ids[row, : len(tokens)] = tokens
    lengths = np.array([len(t) for t in rows])
    mask = (np.arange(ids.shape[1])[None, :] < lengths[:, None]).astype(np.int64)
    return {"text_input_ids": torch.from_numpy(ids), "text_attention_mask": torch.from_numpy(mask)}


def pad_ladder(longest: int, *, shortest: int = 16_000, ratio: float = 1.25, step: int = 320) -> tuple[int, ...]:
    """Padded lengths from ``shortest`` up to ``longest`` samples, each ``ratio`` times the previous (rounded up
    to ``step``, one wav2vec2 frame): a dozen shapes for 1-20 s, at most 25 % padding on top of bucketing."""
    rungs, n = [], max(step, shortest)
    while True:
        n = -(-n // step) * step
        rungs.append(n)
        if n >= longest:
            return tuple(rungs)
        n = int(n * ratio)


class BucketBatchSampler(torch.utils.data.Sampler[list[int]]):
    """Length-bucketed batches, deterministic per ``(seed, epoch)``, resumable mid-epoch.

    Each epoch: shuffle the clips, cut the order into pools of ``pool_batches`` batches, sort each pool by
    length and cut it into batches (of ``batch_size`` clips, or up to ``max_batch_samples`` padded samples),
    then shuffle the batch order. Every clip appears exactly once per epoch. The number of batches is made a
    multiple of ``num_replicas`` by splitting the largest batches, so that under ``accelerate`` (which deals
    batches round-robin to processes) every process gets the same number of steps and no clip is repeated.

    Args:
        lengths: samples per clip (after cropping: pass ``min(length, max_samples)``).
        batch_size: clips per batch (ignored when ``max_batch_samples`` is set).
        max_batch_samples: padded-sample budget per batch (``len(batch) * longest <= budget``).
        shuffle: ``False`` gives sorted batches in a fixed order (evaluation).
        bucket: ``False`` gives plain random batches (the baseline the benchmark compares against).
        weights: optional per-clip sampling weights (class-balanced sampling, drawn with replacement).
    """

    def __init__(
        self,
        lengths: Sequence[int],
        *,
        batch_size: int = 8,
        max_batch_samples: int | None = None,
        num_replicas: int = 1,
        shuffle: bool = True,
        bucket: bool = True,
        seed: int = 0,
        pool_batches: int = 100,
        weights: Sequence[float] | None = None,
    ):
        self.lengths = np.asarray(lengths, dtype=np.int64)
        # ``None`` under a sample budget: accelerate's ``BatchSamplerShard`` reads ``batch_size`` and, given a
        # number, silently drops every batch of another size on multi-process runs; ``None`` tells it the
        # batches vary (it then shards whole batches, whatever their size).
        self.batch_size = None if max_batch_samples is not None else batch_size
        self.max_batch_samples = max_batch_samples
        self.num_replicas = num_replicas
        self.shuffle = shuffle
        self.bucket = bucket
        self.seed = seed
        self.pool_batches = pool_batches
        self.weights = None if weights is None else np.asarray(weights, dtype=np.float64)
        self.epoch = 0
        self.start_batch = 0  # batches of this epoch already consumed (resume)

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch's batches. Accelerate calls this at every iteration start, so a resume offset set
        with ``resume_at`` for the same epoch is kept."""
        if epoch != self.epoch:
            self.start_batch = 0
        self.epoch = epoch

    def resume_at(self, epoch: int, start_batch: int) -> None:
        """Continue ``epoch`` after its first ``start_batch`` batches (all processes together)."""
        self.epoch = epoch
        self.start_batch = start_batch

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "start_batch": self.start_batch, "seed": self.seed}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.start_batch, self.seed = state["epoch"], state["start_batch"], state["seed"]

    def batches(self, epoch: int | None = None) -> list[list[int]]:
        """All batches of an epoch, in order (the same list on every process)."""
        epoch = self.epoch if epoch is None else epoch
        rng = np.random.default_rng([self.seed, epoch])
        n = len(self.lengths)
        if self.weights is not None:
            p = self.weights / self.weights.sum()
            order = rng.choice(n, size=n, replace=True, p=p)
        elif self.shuffle:
            order = rng.permutation(n)
        else:
            order = np.arange(n)
        if not self.shuffle:
            order = order[np.argsort(self.lengths[order], kind="stable")]
            batches = self._cut(order)
        elif self.bucket:
            pool = self._pool_size()
            batches = []
            for start in range(0, n, pool):
                chunk = order[start : start + pool]
                chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
                batches.extend(self._cut(chunk))
            batches = [batches[i] for i in rng.permutation(len(batches))]
        else:
            batches = self._cut(order)
        return self._even(batches)

    def __iter__(self) -> Iterator[list[int]]:
        batches = self.batches()
        yield from batches[self.start_batch :]
        self.start_batch = 0

    def __len__(self) -> int:
        return len(self.batches()) - self.start_batch

    def real_frame_fraction(self, epoch: int | None = None) -> float:
        """Real samples over computed (padded) samples across the epoch's batches."""
        real = padded = 0
        for batch in self.batches(epoch):
            lens = self.lengths[batch]
            real += int(lens.sum())
            padded += int(lens.max()) * len(batch)
        return real / padded if padded else 1.0

    def _pool_size(self) -> int:
        if self.max_batch_samples is not None:
            mean = max(1.0, float(self.lengths.mean()))
            per_batch = max(1, int(self.max_batch_samples // mean))
        else:
            per_batch = self.batch_size
        return per_batch * self.pool_batches

    def _cut(self, order: np.ndarray) -> list[list[int]]:
        if self.max_batch_samples is None:
            return [order[i : i + self.batch_size].tolist() for i in range(0, len(order), self.batch_size)]
        batches, current, longest = [], [], 0
        for idx in order.tolist():
            new_longest = max(longest, int(self.lengths[idx]))
            if current and new_longest * (len(current) + 1) > self.max_batch_samples:
                batches.append(current)
                current, new_longest = [], int(self.lengths[idx])
            current.append(idx)
            longest = new_longest
        if current:
            batches.append(current)
        return batches

    def _even(self, batches: list[list[int]]) -> list[list[int]]:
        # Split the largest batches until every process gets the same number: no clip is dropped or repeated.
        while len(batches) % self.num_replicas:
            sizes = [len(b) for b in batches]
            largest = int(np.argmax(sizes))
            if sizes[largest] < 2:
                batches.append(list(batches[len(batches) - 1]))  # only single-clip batches left: repeat one
                continue
            b = batches.pop(largest)
            half = len(b) // 2
            batches[largest:largest] = [b[:half], b[half:]]
        return batches
