"""Transcripts by ASR for clips without one (``data.transcripts: {asr: <Whisper name or shape:...>}``).

A Whisper checkpoint by Hub name or local path (``WhisperProcessor`` + ``WhisperForConditionalGeneration``), or a
Whisper shape of ``shapes.BACKBONE_SHAPES`` (``shape:whisper-tiny``, ``shape:tiny-whisper``): random weights and a
word-level tokenizer over the model's vocabulary built in code, so its text is garbage but the path that makes,
caches and reports transcripts is the real one, offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from transformers import PreTrainedTokenizerFast, WhisperFeatureExtractor, WhisperForConditionalGeneration

from hf_ser.audio import SAMPLE_RATE
from hf_ser.errors import UserError, first_line
from hf_ser.models.modeling_ser import WHISPER_MODEL_TYPE
from hf_ser.models.shapes import SHAPE_PREFIX, asr_shape_problem, shape_config

MAX_NEW_TOKENS = 64  # a clip of emotional speech is a sentence or two
WINDOW_S = 30  # Whisper's input window (its feature extractor pads or cuts to 30 s)


@dataclass
class Asr:
    """A speech recogniser: ``transcribe(waves)``."""

    name: str
    model: Any
    feature_extractor: Any
    tokenizer: Any
    max_new_tokens: int = MAX_NEW_TOKENS

    @torch.inference_mode()
    def transcribe(self, waves: Sequence[np.ndarray]) -> list[str]:
        """One transcript per 16 kHz waveform. Whisper reads 30 s at most (``WINDOW_S``): a longer wave is
        transcribed window by window and the pieces joined, so nothing past 30 s is lost."""
        window = WINDOW_S * SAMPLE_RATE
        pieces, owners = [], []
        for i, wave in enumerate(waves):
            for start in range(0, max(len(wave), 1), window):
                pieces.append(wave[start : start + window])
                owners.append(i)
        if not pieces:
            return []
        features = self.feature_extractor(pieces, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features
        ids = self.model.generate(features.to(self.model.device, self.model.dtype), max_new_tokens=self.max_new_tokens)
        texts: list[list[str]] = [[] for _ in waves]
        for owner, text in zip(owners, self.tokenizer.batch_decode(ids, skip_special_tokens=True)):
            if text.strip():
                texts[owner].append(text.strip())
        return [" ".join(t) for t in texts]


def check_recogniser(name: str, flag: str = "asr") -> None:
    """Refuse a ``shape:`` name that is no Whisper shape before any model is built (a checkpoint name is checked
    when built). ``flag`` names the option in the message.

    Raises:
        UserError: one line with the valid shapes.
    """
    problem = asr_shape_problem(name)
    if problem:
        raise UserError(f"{flag}={name}: {problem}")


def build_asr(name: str, device: str | None = None) -> Asr:
    """The recogniser ``name``: a Whisper Hub name / local path, or a Whisper ``shape:`` (random, seeded 0), on
    ``device`` (``None``: the CPU).

    Raises:
        ValueError: a shape that is not a Whisper architecture.
        UserError: a checkpoint name from which no Whisper model loads.
    """
    if not name.startswith(SHAPE_PREFIX):
        from transformers import WhisperProcessor

        try:
            processor = WhisperProcessor.from_pretrained(name)
            model = WhisperForConditionalGeneration.from_pretrained(name).eval()
        except OSError as e:  # transformers' "not a folder, not a Hub id" (and offline misses)
            raise UserError(
                f"ASR {name}: no Whisper model loads from it ({first_line(e)}); give a Whisper Hub name or folder, "
                "shape:whisper-tiny, or none"
            ) from e
        return Asr(name, model.to(device or "cpu"), processor.feature_extractor, processor.tokenizer)
    config = shape_config(name)
    if config.model_type != WHISPER_MODEL_TYPE:
        raise ValueError(f"{name} is not a Whisper shape; ASR needs one (e.g. shape:whisper-tiny)")
    generator = torch.random.fork_rng()
    with generator:
        torch.manual_seed(0)
        model = WhisperForConditionalGeneration(config).eval()
    # Random weights say nothing: a few words per clip are enough to exercise the path.
    extractor = WhisperFeatureExtractor(feature_size=config.num_mel_bins)
    return Asr(name, model.to(device or "cpu"), extractor, _word_tokenizer(config.vocab_size), max_new_tokens=8)


def _word_tokenizer(vocab_size: int) -> PreTrainedTokenizerFast:
    """A tokenizer whose id ``i`` decodes to the word ``w<i>``: no vocabulary file needed."""
    from tokenizers import Tokenizer, decoders, models

    tokenizer = Tokenizer(models.WordLevel({f"w{i}": i for i in range(vocab_size)}, unk_token="w0"))
    tokenizer.decoder = decoders.WordPiece(prefix="##")  # joins the words with spaces
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer)
