"""The word-alignment seam: every source of word boundaries ends up as ``list[WordSpan]`` here.

Sources, from strongest to weakest:

* ``CtcAligner``: CTC forced alignment (``torchaudio.functional.forced_align``, Viterbi) on the emissions of
  any ``Wav2Vec2ForCTC`` and its character tokenizer, transcript from the corpus ``text`` column. Tokens are
  merged into words at the word delimiter ``|``; a word's score is the mean probability of its tokens.
* ``WdsegAligner``: the forced alignments shipped with IEMOCAP (``.wdseg``).
* ``TextGridAligner``: TextGrid files, e.g. written by the Montreal Forced Aligner (tier "words").
* ``PauseAligner``: a weak fallback: energy-based pauses split the clip into segments, which are given the
  transcript's words in order when, and only when, their number equals the number of words. Words spoken
  without a pause between them make the clip fail rather than get wrong boundaries.

``AlignmentCache`` runs one aligner over a dataset once, saves the spans as JSON per corpus (keyed by
``corpus/utt_id`` and the aligner's settings) and keeps the clips that failed or scored below a threshold
out of word swapping, with a count of each reason.

Torchaudio is imported here and nowhere else in hf_ser (lazily, so that file-based alignment needs no torch).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from tqdm.auto import tqdm

from hf_ser.audio import SAMPLE_RATE, AudioError
from hf_ser.augment.alignment_files import AlignmentFileError, read_textgrid, read_wdseg
from hf_ser.augment.pauses import speech_segments
from hf_ser.augment.spans import WordSpan, check_spans
from hf_ser.corpora import clip_key
from hf_ser.fsutil import atomic_write_text

if TYPE_CHECKING:
    import datasets
    import torch

logger = logging.getLogger(__name__)

__all__ = [
    "AlignmentCache",
    "AlignmentError",
    "Aligner",
    "CtcAligner",
    "PauseAligner",
    "TextGridAligner",
    "WdsegAligner",
    "WordSpan",
    "utt_key",
    "word_spans_from_emission",
]

# wav2vec2's feature encoder strides (5, 2, 2, 2, 2, 2, 2) multiply to 320 samples = 20 ms at 16 kHz.
WAV2VEC2_FRAME_STRIDE = 320


class AlignmentError(Exception):
    """A clip that an aligner cannot align; ``str(e)`` is the short reason counted in reports."""


class MissingAlignmentFile(AlignmentError):
    """The corpus or aligner output has no alignment file for a clip (retried on the next run, not cached)."""


# The alignment cache keys clips as everything else does (``hf_ser.corpora.clip_key``).
utt_key = clip_key


class Aligner(Protocol):
    """What ``AlignmentCache`` needs from an aligner.

    ``name`` and ``settings()`` identify the cache file, so changing a setting recomputes the alignments.
    ``align_row`` gets one canonical row and a zero-argument function that returns its 16 kHz waveform
    (only called by aligners that need audio) and raises ``AlignmentError`` with a short reason on failure.
    """

    name: str

    def settings(self) -> dict[str, Any]: ...

    def align_row(self, row: Mapping[str, Any], load_wave: Callable[[], np.ndarray]) -> list[WordSpan]: ...


# --------------------------------------------------------------------------------------------------- CTC


def word_spans_from_emission(
    log_probs: torch.Tensor,
    word_tokens: Sequence[Sequence[int]],
    words: Sequence[str],
    *,
    blank_id: int,
    delimiter_id: int | None,
    seconds_per_frame: float,
) -> list[WordSpan]:
    """Viterbi-align a transcript to CTC emissions and merge the token spans into word spans.

    Args:
        log_probs: ``(frames, vocab)`` log-probabilities (log-softmax of the CTC logits).
        word_tokens: token ids of each word (no delimiters).
        words: the words, same length as ``word_tokens``; written into ``WordSpan.word``.
        blank_id: CTC blank id (the pad token of HF CTC tokenizers).
        delimiter_id: word-delimiter id (``|``) placed between words in the target, or ``None`` for
            vocabularies without one.
        seconds_per_frame: emission frame stride in seconds (320 / 16000 for wav2vec2).

    Returns:
        One ``WordSpan`` per word; ``start_s``/``end_s`` from the first/last frame of its tokens (end
        exclusive), ``score`` the mean per-token probability.

    Raises:
        AlignmentError: no tokens, or too few frames for the transcript.
    """
    import torch
    from torchaudio.functional import forced_align, merge_tokens

    if len(word_tokens) != len(words):
        raise ValueError("word_tokens and words differ in length")
    targets: list[int] = []
    owner: list[int] = []  # word index of each target token, -1 for delimiters
    for w, tokens in enumerate(word_tokens):
        if w and delimiter_id is not None:
            targets.append(delimiter_id)
            owner.append(-1)
        targets.extend(int(t) for t in tokens)
        owner.extend([w] * len(tokens))
    if not targets:
        raise AlignmentError("empty transcript after tokenisation")
    emission = log_probs.detach().float().cpu()
    repeats = sum(a == b for a, b in zip(targets, targets[1:]))
    if emission.shape[0] < len(targets) + repeats:
        raise AlignmentError(
            f"clip too short for transcript ({emission.shape[0]} frames < {len(targets) + repeats})"
        )
    try:
        labels, scores = forced_align(
            emission.unsqueeze(0), torch.tensor([targets], dtype=torch.int32), blank=blank_id
        )
    except RuntimeError as e:
        raise AlignmentError(f"forced_align failed ({str(e).splitlines()[0][:80]})") from e
    token_spans = merge_tokens(labels[0], scores[0].exp(), blank=blank_id)
    if len(token_spans) != len(targets):
        raise AlignmentError(f"alignment lost tokens ({len(token_spans)} spans for {len(targets)} tokens)")
    spans: list[WordSpan] = []
    for w, word in enumerate(words):
        mine = [ts for ts, o in zip(token_spans, owner) if o == w]
        if not mine:
            continue
        score = float(np.mean([ts.score for ts in mine]))
        spans.append(
            WordSpan(word, mine[0].start * seconds_per_frame, mine[-1].end * seconds_per_frame, score)
        )
    return spans


class CtcAligner:
    """Forced alignment with any ``Wav2Vec2ForCTC`` and its character tokenizer.

    Args:
        model: a ``Wav2Vec2ForCTC`` (or any model whose forward returns CTC ``logits: (batch, frames, vocab)``
            and whose config has ``conv_stride``).
        tokenizer: a ``Wav2Vec2CTCTokenizer``, or a ``Wav2Vec2Processor`` (its tokenizer and feature
            extractor are used).
        feature_extractor: normalises the waveform as the model was trained; ``None`` takes the processor's,
            else zero-mean unit-variance (what wav2vec2 CTC checkpoints expect).
        device: where the model runs.
        model_id: name recorded in the cache key; defaults to the config's ``_name_or_path``.
        sample_rate: rate of the waveforms given (16 kHz).
    """

    name = "ctc"

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        feature_extractor: Any | None = None,
        device: str = "cpu",
        model_id: str = "",
        sample_rate: int = SAMPLE_RATE,
    ):
        if feature_extractor is None and hasattr(tokenizer, "feature_extractor"):
            feature_extractor = tokenizer.feature_extractor
        self.tokenizer = getattr(tokenizer, "tokenizer", tokenizer)
        self.feature_extractor = feature_extractor
        self.model = model.to(device).eval()
        self.device = device
        self.sample_rate = sample_rate
        self.model_id = model_id or str(getattr(model.config, "_name_or_path", "")) or "unnamed"
        stride = math.prod(getattr(model.config, "conv_stride", (WAV2VEC2_FRAME_STRIDE,)))
        self.seconds_per_frame = stride / sample_rate
        vocab = self.tokenizer.get_vocab()
        self._vocab = vocab
        self.blank_id = int(self.tokenizer.pad_token_id)
        delimiter = getattr(self.tokenizer, "word_delimiter_token", "|")
        self.delimiter_id = vocab.get(delimiter) if delimiter is not None else None
        letters = [t for t in vocab if len(t) == 1 and t.isalpha()]
        # Vocabularies are single-case (English wav2vec2 CTC models are upper case): follow the vocabulary.
        self._case = (
            "upper"
            if letters and all(t.isupper() for t in letters)
            else ("lower" if letters and all(t.islower() for t in letters) else "keep")
        )

    @classmethod
    def from_pretrained(cls, name_or_path: str, *, device: str = "cpu") -> CtcAligner:
        """Load a ``Wav2Vec2ForCTC`` checkpoint and its processor from the Hub or a local folder."""
        from transformers import Wav2Vec2ForCTC, Wav2Vec2Processor

        model = Wav2Vec2ForCTC.from_pretrained(name_or_path)
        processor = Wav2Vec2Processor.from_pretrained(name_or_path)
        return cls(model, processor, device=device, model_id=name_or_path)

    def settings(self) -> dict[str, Any]:
        return {
            "model": self.model_id,
            "vocab_size": len(self._vocab),
            "seconds_per_frame": self.seconds_per_frame,
        }

    def tokenize(self, text: str) -> tuple[list[str], list[list[int]]]:
        """Split ``text`` into words and map each to vocabulary ids; characters outside it are dropped.

        Returns:
            ``(words, word_tokens)``; words with no known character are left out.
        """
        words, word_tokens = [], []
        for word in text.split():
            cased = word.upper() if self._case == "upper" else word.lower() if self._case == "lower" else word
            ids = [self._vocab[c] for c in cased if c in self._vocab and self._vocab[c] != self.delimiter_id]
            if ids:
                words.append(word)
                word_tokens.append(ids)
        return words, word_tokens

    def emission(self, wave: np.ndarray) -> torch.Tensor:
        """CTC log-probabilities of one clip: ``(frames, vocab)``."""
        import torch

        if self.feature_extractor is not None:
            values = self.feature_extractor(
                wave, sampling_rate=self.sample_rate, return_tensors="pt"
            ).input_values
        else:
            w = np.asarray(wave, dtype=np.float32)
            values = torch.from_numpy((w - w.mean()) / np.sqrt(w.var() + 1e-7))[None]
        with torch.inference_mode():
            logits = self.model(values.to(self.device)).logits[0]
        return torch.log_softmax(logits.float(), dim=-1).cpu()

    def align(self, wave: np.ndarray, text: str) -> list[WordSpan]:
        """Word spans of ``text`` in ``wave`` (16 kHz mono). Raises ``AlignmentError``."""
        words, word_tokens = self.tokenize(text)
        if not words:
            raise AlignmentError("no transcript")
        spans = word_spans_from_emission(
            self.emission(wave),
            word_tokens,
            words,
            blank_id=self.blank_id,
            delimiter_id=self.delimiter_id,
            seconds_per_frame=self.seconds_per_frame,
        )
        duration = len(wave) / self.sample_rate
        return [WordSpan(s.word, s.start_s, min(s.end_s, duration), s.score) for s in spans]

    def align_row(self, row: Mapping[str, Any], load_wave: Callable[[], np.ndarray]) -> list[WordSpan]:
        text = str(row.get("text") or "")
        if not text.strip():
            raise AlignmentError("no transcript")
        return self.align(load_wave(), text)


# ------------------------------------------------------------------------------------------ file aligners


class WdsegAligner:
    """IEMOCAP's shipped alignments: ``<SessionN>/sentences/ForcedAlignment/<dialog>/<utt>.wdseg``.

    The file is found from the row's ``path`` (``<SessionN>/sentences/wav/<dialog>/<utt>.wav``).
    """

    name = "wdseg"

    def settings(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def wdseg_path(wav_path: str | Path) -> Path:
        p = Path(wav_path)
        return p.parent.parent.parent / "ForcedAlignment" / p.parent.name / f"{p.stem}.wdseg"

    def align_row(self, row: Mapping[str, Any], load_wave: Callable[[], np.ndarray]) -> list[WordSpan]:
        path = self.wdseg_path(row["path"])
        if not path.is_file():
            raise MissingAlignmentFile("no .wdseg file")
        spans = read_wdseg(path)
        if not spans:
            raise AlignmentError("no words in .wdseg")
        return spans


class TextGridAligner:
    """TextGrid files under ``root`` (e.g. Montreal Forced Aligner output), tier ``tier``.

    For a row, the first existing file of ``root/<rel_path with .TextGrid>``, ``root/<speaker>/<utt_id>.TextGrid``
    and ``root/<utt_id>.TextGrid`` is read (MFA mirrors the corpus folders in its output).
    """

    name = "textgrid"

    def __init__(self, root: str | Path, *, tier: str = "words"):
        self.root = Path(root)
        self.tier = tier

    def settings(self) -> dict[str, Any]:
        return {"root": str(self.root), "tier": self.tier}

    def find(self, row: Mapping[str, Any]) -> Path | None:
        candidates = []
        if row.get("rel_path"):
            candidates.append(self.root / Path(str(row["rel_path"])).with_suffix(".TextGrid"))
        if row.get("speaker"):
            candidates.append(self.root / str(row["speaker"]) / f"{row['utt_id']}.TextGrid")
        candidates.append(self.root / f"{row['utt_id']}.TextGrid")
        return next((c for c in candidates if c.is_file()), None)

    def align_row(self, row: Mapping[str, Any], load_wave: Callable[[], np.ndarray]) -> list[WordSpan]:
        path = self.find(row)
        if path is None:
            raise MissingAlignmentFile("no TextGrid file")
        try:
            spans = read_textgrid(path, tier=self.tier)
        except AlignmentFileError as e:
            raise AlignmentError(f"bad TextGrid ({e})") from e
        if not spans:
            raise AlignmentError("no words in TextGrid")
        return spans


# ------------------------------------------------------------------------------------------ pause fallback


class PauseAligner:
    """Weak fallback: words assigned in order to the speech segments between energy-based pauses.

    Only usable when the speaker pauses between every pair of words (slow read speech, single words); the
    clip fails with "pause count mismatch" otherwise, so it never gets silently wrong boundaries.
    """

    name = "pause"

    def __init__(
        self, *, threshold_db: float = -35.0, min_pause_s: float = 0.12, sample_rate: int = SAMPLE_RATE
    ):
        self.threshold_db = threshold_db
        self.min_pause_s = min_pause_s
        self.sample_rate = sample_rate

    def settings(self) -> dict[str, Any]:
        return {"threshold_db": self.threshold_db, "min_pause_s": self.min_pause_s}

    def align(self, wave: np.ndarray, text: str) -> list[WordSpan]:
        """Word spans of ``text`` in ``wave``. Raises ``AlignmentError`` when segments and words differ in number."""
        words = text.split()
        if not words:
            raise AlignmentError("no transcript")
        segments = speech_segments(
            wave, self.sample_rate, threshold_db=self.threshold_db, min_pause_s=self.min_pause_s
        )
        if len(segments) != len(words):
            raise AlignmentError(f"pause count mismatch ({len(segments)} segments for {len(words)} words)")
        sr = self.sample_rate
        return [WordSpan(w, a / sr, b / sr) for w, (a, b) in zip(words, segments)]

    def align_row(self, row: Mapping[str, Any], load_wave: Callable[[], np.ndarray]) -> list[WordSpan]:
        return self.align(load_wave(), str(row.get("text") or ""))


# ----------------------------------------------------------------------------------------------- cache


def _settings_digest(aligner: Aligner) -> str:
    blob = json.dumps({"name": aligner.name, "settings": aligner.settings()}, sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()[:12]


def _reason_kind(reason: str) -> str:
    return reason.split(" (")[0]


class AlignmentCache:
    """Word spans per clip, plus why the others are unusable.

    Look-ups use the clip key ``"<corpus>/<utt_id>"``. ``get`` returns ``None`` for a clip that failed to align
    or whose score (mean of its words' scores; unscored spans always pass) is below ``min_score``; such clips
    are neither swapped nor used as donors.

    Args:
        spans: key -> word spans of the aligned clips.
        failures: key -> short reason for the clips that did not align.
        min_score: threshold on the clip score; ``None`` disables it.
    """

    def __init__(
        self,
        spans: Mapping[str, Sequence[WordSpan]] | None = None,
        failures: Mapping[str, str] | None = None,
        *,
        min_score: float | None = None,
    ):
        self.spans: dict[str, list[WordSpan]] = {k: list(v) for k, v in (spans or {}).items()}
        self.failures: dict[str, str] = dict(failures or {})
        self.min_score = min_score

    @staticmethod
    def clip_score(spans: Sequence[WordSpan]) -> float | None:
        """Mean word score, or ``None`` when no span is scored."""
        scores = [s.score for s in spans if s.score is not None]
        return float(np.mean(scores)) if scores else None

    def exclusion_reason(self, key: str) -> str | None:
        """Why clip ``key`` cannot be used for swapping, or ``None`` when it can."""
        if key in self.failures:
            return self.failures[key]
        if key not in self.spans:
            return "not aligned"
        score = self.clip_score(self.spans[key])
        if self.min_score is not None and score is not None and score < self.min_score:
            return f"low score ({score:.3f} < {self.min_score})"
        return None

    def get(self, key: str) -> list[WordSpan] | None:
        """Usable word spans of clip ``key``, or ``None`` (see ``exclusion_reason``)."""
        return None if self.exclusion_reason(key) is not None else self.spans[key]

    def __contains__(self, key: object) -> bool:
        return key in self.spans or key in self.failures

    def __len__(self) -> int:
        return len(self.spans) + len(self.failures)

    def summary(self, keys: Iterable[str] | None = None) -> dict[str, Any]:
        """Counts of usable and excluded clips (over ``keys``, default all known), excluded ones by reason."""
        keys = list(keys) if keys is not None else sorted(set(self.spans) | set(self.failures))
        reasons: Counter[str] = Counter()
        for key in keys:
            reason = self.exclusion_reason(key)
            if reason is not None:
                reasons[_reason_kind(reason)] += 1
        excluded = sum(reasons.values())
        return {
            "clips": len(keys),
            "usable": len(keys) - excluded,
            "excluded": excluded,
            "reasons": dict(reasons),
        }

    # ---- persistence

    @staticmethod
    def cache_path(cache_dir: str | Path, corpus: str, aligner: Aligner) -> Path:
        """``<cache_dir>/<corpus>/<aligner name>-<settings digest>.json``."""
        return Path(cache_dir) / corpus / f"{aligner.name}-{_settings_digest(aligner)}.json"

    @staticmethod
    def _read(path: Path) -> tuple[dict[str, list[WordSpan]], dict[str, str]]:
        if not path.is_file():
            return {}, {}
        data = json.loads(path.read_text(encoding="utf-8"))
        spans = {k: [WordSpan.from_dict(d) for d in v] for k, v in data.get("spans", {}).items()}
        return spans, dict(data.get("failures", {}))

    @staticmethod
    def _write(
        path: Path, aligner: Aligner, spans: Mapping[str, list[WordSpan]], failures: Mapping[str, str]
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "aligner": aligner.name,
            "settings": aligner.settings(),
            "spans": {k: [s.to_dict() for s in v] for k, v in sorted(spans.items())},
            "failures": dict(sorted(failures.items())),
        }
        atomic_write_text(path, json.dumps(data, indent=1, default=str))  # an interrupted run leaves no half cache

    @classmethod
    def compute(
        cls,
        rows: datasets.Dataset | Sequence[Mapping[str, Any]],
        aligner: Aligner,
        *,
        get_wave: Callable[[int], np.ndarray] | None = None,
        cache_dir: str | Path | None = None,
        min_score: float | None = None,
        progress: bool = True,
    ) -> AlignmentCache:
        """Align every row once, reusing and extending the per-corpus cache files under ``cache_dir``.

        Args:
            rows: canonical rows (``utt_id``, ``corpus``, ``text``, ``path``, ...). Align the whole corpus
                once (not one fold's split) so that every fold reuses the same file.
            aligner: any ``Aligner``; its name and settings select the cache file.
            get_wave: 16 kHz waveform of row ``i``; needed by aligners that read audio (CTC, pause).
            cache_dir: where the JSON files live; ``None`` keeps everything in memory.
            min_score: see the class.
            progress: show a tqdm bar while aligning.

        Returns:
            The cache over all rows; its ``summary()`` is also logged.
        """
        by_corpus: dict[str, list[int]] = {}
        for i, row in enumerate(rows):
            by_corpus.setdefault(str(row["corpus"]), []).append(i)
        spans: dict[str, list[WordSpan]] = {}
        failures: dict[str, str] = {}
        for corpus, indices in by_corpus.items():
            path = cls.cache_path(cache_dir, corpus, aligner) if cache_dir is not None else None
            c_spans, c_failures = cls._read(path) if path is not None else ({}, {})
            retry: dict[str, str] = {}
            todo = [
                i
                for i in indices
                if str(rows[i]["utt_id"]) not in c_spans and str(rows[i]["utt_id"]) not in c_failures
            ]
            for i in tqdm(todo, desc=f"aligning {corpus} ({aligner.name})", disable=not progress or not todo):
                row = rows[i]
                utt = str(row["utt_id"])
                try:
                    result = aligner.align_row(row, _wave_loader(get_wave, i))
                    duration = row.get("duration_s")
                    bad = check_spans(result, float(duration) if duration and duration == duration else None)
                    if bad is not None:
                        raise AlignmentError(bad)
                    c_spans[utt] = result
                except MissingAlignmentFile as e:
                    retry[utt] = str(e)
                except (AlignmentError, AudioError, AlignmentFileError, OSError) as e:
                    c_failures[utt] = str(e) or type(e).__name__
            if path is not None and todo:
                # A missing alignment file is not cached as a failure: once the file exists, the next run uses it.
                cls._write(path, aligner, c_spans, c_failures)
            spans.update({utt_key(corpus, u): v for u, v in c_spans.items()})
            failures.update({utt_key(corpus, u): r for u, r in {**c_failures, **retry}.items()})
        cache = cls(spans, failures, min_score=min_score)
        keys = [
            utt_key(str(rows[i]["corpus"]), str(rows[i]["utt_id"])) for idx in by_corpus.values() for i in idx
        ]
        summary = cache.summary(keys)
        logger.info(
            "alignment (%s): %d of %d clips usable for word swap; excluded by reason: %s",
            aligner.name,
            summary["usable"],
            summary["clips"],
            summary["reasons"] or "none",
        )
        return cache


def _wave_loader(get_wave: Callable[[int], np.ndarray] | None, index: int) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        if get_wave is None:
            raise AlignmentError("aligner needs audio but no get_wave was given")
        return get_wave(index)

    return load


# name -> builder of an aligner from recipe options (``data.alignment: {aligner: pause, min_pause_s: 0.08}``).
ALIGNERS: dict[str, Callable[..., Any]] = {
    "ctc": lambda model, device="cpu": CtcAligner.from_pretrained(model, device=device),
    "wdseg": lambda: WdsegAligner(),
    "textgrid": lambda root, tier="words": TextGridAligner(root, tier=tier),
    "pause": lambda threshold_db=-35.0, min_pause_s=0.12: PauseAligner(threshold_db=threshold_db, min_pause_s=min_pause_s),
}


def build_aligner(name: str, **options: Any) -> Any:
    """Build a registered aligner; unknown names fail with the list of valid ones."""
    if name not in ALIGNERS:
        raise KeyError(f"unknown aligner {name!r}; valid: {sorted(ALIGNERS)}")
    return ALIGNERS[name](**options)


def compute_alignments(
    rows, options: Mapping[str, Any], *, get_wave: Callable[[int], np.ndarray], cache_root: Path, progress: bool = True
) -> AlignmentCache:
    """Word spans of every row from recipe options ``{aligner: ..., min_score: ..., <aligner options>}``,
    computed once and cached under ``cache_root/alignments``.

    Raises:
        ValueError: no ``aligner`` given.
    """
    options = dict(options)
    if "aligner" not in options:
        raise ValueError("word_swap needs word boundaries: set data.alignment.aligner (ctc, wdseg, textgrid or pause)")
    name, min_score = options.pop("aligner"), options.pop("min_score", None)
    return AlignmentCache.compute(
        rows, build_aligner(name, **options), get_wave=get_wave, cache_dir=Path(cache_root) / "alignments",
        min_score=min_score, progress=progress,
    )
