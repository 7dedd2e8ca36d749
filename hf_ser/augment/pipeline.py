"""The augmentation registry and the pipeline the trainer calls on TRAINING items.

``build_augmentation(specs, train_rows=..., get_wave=..., alignments=..., seed=...)`` turns recipe entries
such as ``{"name": "speed", "factors": [0.81, 1.0, 1.23], "p": 1.0}`` into one callable
``aug(wave, index, rng) -> wave``. Steps run in the order given, each with its own probability ``p``
(default 1.0; 0.5 for ``word_swap``, the original recipe's value). Everything that needs other clips (word
swap donors, babble) reaches only ``train_rows``: the leakage guard by construction.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from hf_ser.audio import SAMPLE_RATE
from hf_ser.augment._rows import keys_of
from hf_ser.augment.leakage import LeakageError
from hf_ser.augment.noise import AdditiveNoise
from hf_ser.augment.speed import DEFAULT_FACTORS, SpeedPerturb
from hf_ser.augment.splice import RandomSplice
from hf_ser.augment.word_swap import WordSwap

if TYPE_CHECKING:
    import datasets

    from hf_ser.augment.align import AlignmentCache

logger = logging.getLogger(__name__)


class Augmentation(Protocol):
    """One waveform transform: ``(samples,)`` of training row ``index`` -> ``(samples',)``; randomness from ``rng``."""

    def __call__(self, wave: np.ndarray, index: int, rng: np.random.Generator) -> np.ndarray: ...


def build_word_swap(
    *,
    train_rows: datasets.Dataset,
    get_wave: Callable[[int], np.ndarray],
    alignments: AlignmentCache | None,
    sample_rate: int = SAMPLE_RATE,
    **options: Any,
) -> WordSwap:
    """``WordSwap`` over the training rows; options: ``mode``, ``k``, ``speaker``, ``statement``, ``crossfade_ms``,
    ``match_loudness``, ``noun_index``, ``verb_index``."""
    if alignments is None:
        raise ValueError(
            "word_swap needs word alignments: pass alignments=AlignmentCache.compute(rows, aligner, ...) "
            "(see hf_ser.augment.align)"
        )
    return WordSwap(train_rows, get_wave, alignments, sample_rate=sample_rate, **options)


def build_speed(
    *,
    train_rows: datasets.Dataset,
    get_wave: Callable[[int], np.ndarray],
    alignments: AlignmentCache | None,
    sample_rate: int = SAMPLE_RATE,
    factors: Sequence[float] = DEFAULT_FACTORS,
) -> SpeedPerturb:
    """``SpeedPerturb(factors)``."""
    return SpeedPerturb(factors, sample_rate=sample_rate)


def build_noise(
    *,
    train_rows: datasets.Dataset,
    get_wave: Callable[[int], np.ndarray],
    alignments: AlignmentCache | None,
    sample_rate: int = SAMPLE_RATE,
    snr_db: float | Sequence[float] = (10.0, 30.0),
    kind: str = "white",
    talkers: int = 3,
) -> AdditiveNoise:
    """``AdditiveNoise``; babble talkers are other training rows."""
    return AdditiveNoise(snr_db, kind=kind, get_wave=get_wave, num_rows=len(train_rows), talkers=talkers)  # type: ignore[arg-type]


def build_splice(
    *,
    train_rows: datasets.Dataset,
    get_wave: Callable[[int], np.ndarray],
    alignments: AlignmentCache | None,
    sample_rate: int = SAMPLE_RATE,
    threshold_db: float = -35.0,
    min_pause_s: float = 0.12,
) -> RandomSplice:
    """``RandomSplice`` (pieces between pauses reshuffled)."""
    return RandomSplice(threshold_db=threshold_db, min_pause_s=min_pause_s, sample_rate=sample_rate)


AUGMENTATIONS: dict[str, Callable[..., Augmentation]] = {
    "word_swap": build_word_swap,
    "speed": build_speed,
    "noise": build_noise,
    "splice": build_splice,
}

DEFAULT_P: dict[str, float] = {"word_swap": 0.5}


@dataclass
class AugmentationStep:
    """One configured augmentation and the probability that it runs on an item."""

    name: str
    p: float
    transform: Augmentation


class AugmentationPipeline:
    """Augmentations applied in order, each with its own probability.

    Call it as ``aug(wave, index, rng)`` with the full stored waveform of training row ``index``. Without an
    ``rng``, ``item_rng(0, index)`` is used; the trainer should pass ``aug.item_rng(epoch, index)`` so that
    an item's augmentation depends on (seed, epoch, index) only, not on worker or batch order.
    """

    def __init__(self, steps: Sequence[AugmentationStep], *, seed: int, donor_keys: Sequence[str]):
        self.steps = list(steps)
        self.seed = int(seed)
        self.donor_keys = frozenset(donor_keys)
        self.num_rows = len(donor_keys)
        self.counts: Counter[str] = Counter()
        self.last_applied: tuple[str, ...] = ()  # steps that ran on the last item (the trainer counts per batch)

    def item_rng(self, epoch: int, index: int) -> np.random.Generator:
        """Generator for one item in one epoch, derived from the pipeline seed."""
        return np.random.default_rng([self.seed, int(epoch), int(index)])

    def __call__(self, wave: np.ndarray, index: int, rng: np.random.Generator | None = None) -> np.ndarray:
        """Augment training row ``index``: ``(samples,)`` -> ``(samples',)`` float32 (the input is not modified)."""
        if not 0 <= index < self.num_rows:
            raise IndexError(f"row index {index} outside the {self.num_rows} training rows")
        rng = rng if rng is not None else self.item_rng(0, index)
        out = wave
        applied = []
        for step in self.steps:
            # The coin is drawn even when p is 0 or 1, so that changing one step's p does not shift the
            # random stream of the steps after it.
            if rng.random() < step.p:
                out = step.transform(out, index, rng)
                self.counts[step.name] += 1
                applied.append(step.name)
        self.last_applied = tuple(applied)
        return np.asarray(out, dtype=np.float32)

    def report(self) -> dict[str, Any]:
        """How often each step ran, plus word-swap skip counts and excluded training clips."""
        out: dict[str, Any] = {"applied": dict(self.counts)}
        for step in self.steps:
            if isinstance(step.transform, WordSwap):
                out["word_swap"] = {
                    "stats": dict(step.transform.stats),
                    "excluded": dict(step.transform.excluded),
                }
        return out

    def assert_no_leakage(self, other_rows: datasets.Dataset | Sequence[Mapping[str, Any]]) -> None:
        """Raise ``LeakageError`` if a clip of ``other_rows`` (validation/test) could be a donor."""
        leaked = sorted(k for k in keys_of(other_rows) if k in self.donor_keys)
        if leaked:
            raise LeakageError(
                f"{len(leaked)} validation/test clips are among the augmentation donors, e.g. {leaked[:5]}"
            )


def build_augmentation(
    specs: Sequence[Mapping[str, Any]],
    *,
    train_rows: datasets.Dataset,
    get_wave: Callable[[int], np.ndarray],
    alignments: AlignmentCache | None,
    seed: int,
    sample_rate: int = SAMPLE_RATE,
) -> AugmentationPipeline:
    """Build the augmentation pipeline of a recipe.

    Args:
        specs: recipe entries, each ``{"name": <key of AUGMENTATIONS>, "p": <probability>, **options}``.
        train_rows: the current fold's TRAINING split only (canonical schema); the only source of donors.
        get_wave: 16 kHz float32 waveform of training row ``i`` (never modified).
        alignments: word spans for ``word_swap``; ``None`` when no step needs them.
        seed: base of ``item_rng``.
        sample_rate: rate of all waveforms.

    Raises:
        KeyError: unknown augmentation name (the message lists the valid ones).
        ValueError: bad options or probability, or ``word_swap`` not first (its spans describe the stored
            clip, so no earlier step may change the timing or the content it cuts).
    """
    steps = []
    for position, spec in enumerate(specs):
        options = dict(spec)
        name = options.pop("name", None)
        if name not in AUGMENTATIONS:
            raise KeyError(f"Unknown augmentation {name!r}; choose one of {sorted(AUGMENTATIONS)}")
        p = float(options.pop("p", DEFAULT_P.get(name, 1.0)))
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"augmentation {name!r}: p must be in [0, 1], not {p}")
        if name == "word_swap" and position != 0:
            raise ValueError(
                "word_swap must be the first augmentation: its word spans refer to the stored clip"
            )
        try:
            transform = AUGMENTATIONS[name](
                train_rows=train_rows,
                get_wave=get_wave,
                alignments=alignments,
                sample_rate=sample_rate,
                **options,
            )
        except TypeError as e:
            raise ValueError(f"augmentation {name!r}: bad options {sorted(options)} ({e})") from e
        steps.append(AugmentationStep(name, p, transform))
    pipeline = AugmentationPipeline(steps, seed=seed, donor_keys=keys_of(train_rows))
    logger.info("augmentation: %s", [f"{s.name}(p={s.p})" for s in steps] or "none")
    return pipeline
