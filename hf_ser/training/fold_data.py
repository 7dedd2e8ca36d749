"""One fold's data side: the split (drawn, or read back on resume), label ids, augmentation and loaders."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator

from hf_ser.acceleration import compile_pad_lengths
from hf_ser.audio import SAMPLE_RATE
from hf_ser.baselines.targets import dims_array
from hf_ser.config import RecipeConfig
from hf_ser.data.batching import BucketBatchSampler, ClipDataset, Collator
from hf_ser.data.loaders import balanced_weights, keep_rows, loader_generator, loader_kwargs, soft_targets
from hf_ser.data.prepare import PreparedData
from hf_ser.evaluation.inference import eval_loader
from hf_ser.models.text_encoder import build_tokenizer, tokenize
from hf_ser.run_dir import MANIFESTS_DIR, read_split, write_manifests
from hf_ser.splits import Fold, Split, split_fold


@dataclass
class FoldData:
    """One fold's data side: the split, label ids, augmentation and the (not yet prepared) loaders."""

    split: Split
    label_names: list[str]
    ids: np.ndarray  # label id of every dataset row, -100 where the label is not a model class
    dims: tuple[str, ...]
    targets_dims: np.ndarray | None
    augment: Any
    soft: np.ndarray | None  # (train clips, classes) vote distributions with ``model.targets: soft``
    n_voted: int  # training clips whose soft target comes from votes (the rest: their hard label)
    sampler: BucketBatchSampler
    clip_lengths: list[int]  # full length of each training clip (samples)
    max_samples: int
    select_idx: list[int]  # rows model selection scores (validation, or test for published test selection)
    train_loader: torch.utils.data.DataLoader
    valid_loader: torch.utils.data.DataLoader
    test_loader: torch.utils.data.DataLoader
    tokenizer: Any = None  # speech + text models: the transcript tokenizer (saved with the model), else None
    text_ids: list[list[int]] | None = None  # transcript token ids of every dataset row (speech + text models)
    # Speech + text models: the test split without its transcripts (the model's speech-only figure), else None.
    test_speech_loader: torch.utils.data.DataLoader | None = None


def build_fold_data(
    cfg: RecipeConfig, accelerator: Accelerator, data: PreparedData, fold: Fold, fold_dir: Path,
    speaker_independent: bool, alignments,
) -> FoldData:
    """The fold's split, label ids built from its training side, augmentation, loaders.

    A new fold draws its split and writes the manifests; a resumed one reads its split back from them.
    """
    tc = cfg.train
    split = read_split(fold_dir, data.dataset) if cfg.resume else None
    if split is None:
        split = split_fold(data.dataset, fold, valid_fraction=cfg.data.valid_fraction, seed=tc.seed, speaker_independent=speaker_independent)
        if accelerator.is_main_process:
            fold_dir.mkdir(parents=True, exist_ok=True)
            write_manifests(data.dataset, split, fold_dir / MANIFESTS_DIR)
    all_labels = data.column("label")
    dims = tuple(cfg.model.dims) if cfg.model.task != "classification" else ()
    targets_dims = dims_array(data.dataset, dims) if dims else None
    if dims:  # clips without dimensional labels cannot train or score a regression head
        split = keep_rows(split, np.isfinite(targets_dims).all(axis=1))
    label_names = sorted({all_labels[i] for i in split.train}) if cfg.model.task != "regression" else []
    label2id = {name: i for i, name in enumerate(label_names)}
    ids = np.array([label2id.get(lab, -100) for lab in all_labels], dtype=np.int64)

    max_samples = int(cfg.data.max_duration_s * SAMPLE_RATE)
    train_rows = data.dataset.select(split.train)
    augment = build_augment(cfg, train_rows, data, split, alignments, tc.seed)
    tokenizer = build_tokenizer(cfg.model.text_encoder) if cfg.model.text_encoder else None
    text_ids = transcript_ids(data, tokenizer, cfg.model.text_max_tokens) if tokenizer is not None else None
    soft, n_voted = soft_targets(train_rows, label_names, ids[split.train]) if cfg.model.targets == "soft" and label_names else (None, 0)
    train_set = ClipDataset(
        lambda i: data.wave(split.train[i]), ids[split.train], dims=targets_dims[split.train] if dims else None,
        soft=soft, max_samples=max_samples, augment=augment, seed=tc.seed,
        text_ids=[text_ids[i] for i in split.train] if text_ids is not None else None,
    )
    clip_lengths = [data.num_samples(i) for i in split.train]
    sampler = BucketBatchSampler(
        [min(n, max_samples) for n in clip_lengths],
        batch_size=tc.batch_size,
        max_batch_samples=int(tc.max_batch_audio_s * SAMPLE_RATE) if tc.max_batch_audio_s else None,
        num_replicas=accelerator.num_processes,
        bucket=tc.bucket_by_length,
        seed=tc.seed + fold.index,
        weights=balanced_weights(ids[split.train]) if tc.balanced_sampling else None,
    )
    pads = compile_pad_lengths(tc, int(data.lengths.min()), int(data.lengths.max()))  # () unless train.compile
    train_loader = torch.utils.data.DataLoader(
        train_set, batch_sampler=sampler, collate_fn=Collator(pad_lengths=pads), num_workers=tc.num_workers,
        generator=loader_generator(tc.seed), **loader_kwargs(tc.num_workers),
    )
    # Selecting on the test fold only replicates papers that did so; the protocol in every report says it.
    select_idx = {"test": split.test, "valid": split.valid, "none": []}[cfg.data.selection_split]
    loader_args = dict(
        window=max_samples, batch_size=tc.batch_size, num_workers=tc.num_workers, seed=tc.seed, dims=targets_dims, pad_lengths=pads,
        text_ids=text_ids,
    )
    return FoldData(
        split=split, label_names=label_names, ids=ids, dims=dims, targets_dims=targets_dims, augment=augment,
        soft=soft, n_voted=n_voted, sampler=sampler, clip_lengths=clip_lengths, max_samples=max_samples, select_idx=select_idx,
        train_loader=train_loader,
        valid_loader=eval_loader(data, select_idx, ids, **loader_args),
        test_loader=eval_loader(data, split.test, ids, **loader_args),
        tokenizer=tokenizer, text_ids=text_ids,
        test_speech_loader=eval_loader(data, split.test, ids, **{**loader_args, "text_ids": None}) if text_ids is not None else None,
    )


def transcript_ids(data: PreparedData, tokenizer, max_tokens: int) -> list[list[int]]:
    """Token ids of every row's transcript (the schema's ``text`` column; ``[]`` where it is empty), computed
    once when the data is set up, never per step."""
    texts = data.column("text") if "text" in data.dataset.column_names else [""] * len(data.dataset)
    return tokenize(tokenizer, texts, max_tokens)


def build_augment(cfg: RecipeConfig, train_rows, data: PreparedData, split, alignments, seed: int):
    """The fold's training augmentation (``None`` without ``data.augment``), checked for leaks into valid / test."""
    if not cfg.data.augment:
        return None
    from hf_ser.augment import assert_no_leakage, build_augmentation

    # Donors come only from this fold's training rows: validation and test audio is never touched.
    aug = build_augmentation(
        cfg.data.augment, train_rows=train_rows, get_wave=lambda i: data.wave(split.train[i]), alignments=alignments, seed=seed
    )
    for other in (split.valid, split.test):
        assert_no_leakage(train_rows, data.dataset.select(other))
    return aug
