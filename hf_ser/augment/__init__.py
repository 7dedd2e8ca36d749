"""Waveform augmentation for training items: word swap at alignment boundaries, speed, noise, splicing.

Entry point for the trainer::

    aug = build_augmentation(specs, train_rows=train, get_wave=get_wave, alignments=cache, seed=seed)
    wave = aug(wave, index, aug.item_rng(epoch, index))

Only the training rows are ever given to the augmentations, so donors cannot be validation or test clips;
``assert_no_leakage`` checks the splits themselves. Torch/torchaudio are imported lazily (``align`` only).
"""

from hf_ser.augment.align import (
    AlignmentCache,
    AlignmentError,
    CtcAligner,
    PauseAligner,
    TextGridAligner,
    WdsegAligner,
    utt_key,
)
from hf_ser.augment.alignment_files import read_textgrid, read_wdseg
from hf_ser.augment.leakage import LeakageError, assert_no_leakage
from hf_ser.augment.noise import AdditiveNoise, mix_at_snr
from hf_ser.augment.pipeline import AUGMENTATIONS, AugmentationPipeline, build_augmentation
from hf_ser.augment.spans import WordSpan
from hf_ser.augment.speed import SpeedPerturb, change_speed
from hf_ser.augment.splice import RandomSplice
from hf_ser.augment.word_swap import DonorWord, WordSwap, splice_words

__all__ = [
    "AUGMENTATIONS",
    "AdditiveNoise",
    "AlignmentCache",
    "AlignmentError",
    "AugmentationPipeline",
    "CtcAligner",
    "DonorWord",
    "LeakageError",
    "PauseAligner",
    "RandomSplice",
    "SpeedPerturb",
    "TextGridAligner",
    "WdsegAligner",
    "WordSpan",
    "WordSwap",
    "assert_no_leakage",
    "build_augmentation",
    "change_speed",
    "mix_at_snr",
    "read_textgrid",
    "read_wdseg",
    "splice_words",
    "utt_key",
]
