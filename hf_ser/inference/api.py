"""``hf_ser.load(path_or_hub_id, backend="torch"|"onnx")``: the one inference path of hf_ser.

``model.predict(x)`` labels a path, a list of paths, or an in-memory ``(array, sampling_rate)``; each result is
a :class:`~hf_ser.inference.results.Prediction` with the label, the probability of every class and, for
regression / multitask models, the dimensions. A recording longer than the model's window is scored by the
windowing rule of ``hf_ser.evaluation.windowing`` (50 %-overlapping windows, mean logits): the PyTorch backend
goes through ``hf_ser.evaluation.inference.score_windows``, the function ``hf-ser evaluate`` and training use,
so the same input gives the same numbers in ``predict``, ``evaluate``, ``hf-ser predict`` and the server.

``model.segments(x)`` is for long recordings: Silero VAD finds the speech (``hf_ser.inference.vad``), spans are
fitted to ``[min_s, max_s]``, each is classified (windowed inside), and the file's distribution is the
duration-weighted mean over speech only. Files are read in blocks there, so memory stays flat with duration.

The transformers ``pipeline("audio-classification")`` scores a clip whole: on a clip no longer than the window
it gives these numbers; on a longer one it does not window, so its numbers differ.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Union

import numpy as np

from hf_ser.audio import (
    SAMPLE_RATE,
    AudioError,
    GitLfsPointerError,
    read_blocks,
    read_info,
    resample,
    silence_reason,
)
from hf_ser.errors import UserError
from hf_ser.evaluation.windowing import (
    GROUP_WINDOWS,
    clip_means,
    decode_checked,
    decoded_groups,
    softmax,
    too_short,
    window_seconds,
)
from hf_ser.inference.backends import Backend, open_backend
from hf_ser.inference.results import Prediction, Segment, answer
from hf_ser.inference.vad import SileroVad, VadSettings, cut_spans, fit_spans, speech_spans
from hf_ser.modality import (
    ASR_AUTO,
    ASR_NONE,
    SPEECH,
    SPEECH_TEXT,
    TEXT_ASR,
    TEXT_GIVEN,
    TEXT_NONE,
    choose_asr,
)

logger = logging.getLogger(__name__)

Audio = tuple[np.ndarray, int]  # (waveform (samples,) or (samples, channels), sampling rate)
Input = Union[str, Path, Audio]
ARRAY_SOURCE = "<array>"


def load(
    path_or_hub_id: str | Path,
    backend: str = "torch",
    *,
    device: str | None = None,
    trust_remote_code: bool = False,
    window_s: float | None = None,
    batch_size: int = 8,
    threads: int = 1,
    calibrated: bool = True,
    min_confidence: float | None = None,
    asr: str | None = ASR_AUTO,
) -> EmotionModel:
    """Load a model for inference.

    Args:
        path_or_hub_id: ``torch``: a saved model folder (``runs/<name>/model``) or a Hub repo id; ``onnx``: a
            folder from ``hf-ser export onnx`` (its ``model.onnx``) or an ``.onnx`` file with its ``.json``.
        backend: ``"torch"`` or ``"onnx"`` (onnxruntime; imports neither torch nor transformers).
        device: torch device (default CUDA when available, else CPU); ignored by ``onnx``.
        trust_remote_code: run Python code shipped with the model (never done otherwise).
        window_s: window length for long inputs; ``None``: the model's training crop.
        batch_size: windows per forward pass.
        threads: onnxruntime intra-op threads (``onnx``; 1 suits a shared machine, more a dedicated server).
        calibrated: divide the logits by the temperature fitted on validation at training (stored with the model;
            ``hf-ser predict --no-calibration`` turns it off to see the raw probabilities). Labels never change.
        min_confidence: answer ``"abstain"`` (``ABSTAIN``) where the top probability is below this (probabilities
            are still given); ``None``: always answer.
        asr: a speech + text model's transcripts for inputs given none: ``"auto"`` runs the recogniser its
            training transcripts came from (recorded in the saved model; none recorded: speech alone), a Whisper
            Hub name / folder or ``shape:whisper-tiny`` runs that one, ``None`` / ``"none"`` predicts them from
            speech alone. Given transcripts always win. The recogniser is built on first use, once.

    Raises:
        UserError: unknown backend; an ONNX source without its graph or settings; a model folder shipping foreign
            code (``ForeignCodeError``) without ``trust_remote_code``; a recogniser named for a speech-only model
            or for the ONNX backend.
    """
    return EmotionModel(
        open_backend(path_or_hub_id, backend, device=device, trust_remote_code=trust_remote_code, threads=threads),
        window_s=window_s,
        batch_size=batch_size,
        calibrated=calibrated,
        min_confidence=min_confidence,
        asr=asr,
    )


class EmotionModel:
    """A loaded model: ``predict`` and ``segments`` (module docstring). ``labels`` and ``dims`` name its outputs."""

    def __init__(
        self, backend: Backend, *, window_s: float | None = None, batch_size: int = 8, calibrated: bool = True,
        min_confidence: float | None = None, asr: str | None = ASR_AUTO,
    ) -> None:
        if min_confidence is not None and not 0.0 < min_confidence <= 1.0:
            raise UserError(f"min_confidence {min_confidence}: give a probability in (0, 1]")
        self.backend = backend
        self.settings = backend.settings
        self.labels: list[str] = list(self.settings.labels)
        self.dims: list[str] = list(self.settings.dims)
        self.sampling_rate = int(self.settings.sampling_rate)
        self.window_s = window_seconds(self.settings, window_s)
        self.window = int(self.window_s * self.sampling_rate)
        self.batch_size = int(batch_size)
        self.temperature = float(self.settings.temperature) if calibrated else 1.0
        self.min_confidence = min_confidence
        self.asr = self._chosen_asr(asr)  # the recogniser's name, or None: inputs without a transcript use speech
        self._recogniser = None  # built on first use (``_transcribe``)

    def __repr__(self) -> str:
        return f"EmotionModel(backend={self.backend.name!r}, labels={self.labels}, dims={self.dims}, window_s={self.window_s})"

    # ------------------------------------------------------------------------------------------ public
    def predict(
        self, x: Input | Sequence[Input], text: str | None | Sequence[str | None] = None
    ) -> Prediction | list[Prediction]:
        """Label ``x``: a path, an ``(array, sampling_rate)`` pair, or a list of either (a list in, a list out).

        Unusable inputs (unreadable, silent, shorter than the CNN's receptive field) come back with ``error``.

        ``text``: the transcript of each input for a speech + text model (``settings.modality == "speech+text"``):
        one string for one input, a list (``None`` or ``""`` where there is none) for a list. Inputs without one
        get the ASR's transcript (``load(asr=...)``), or are predicted from speech alone without an ASR; each
        ``Prediction`` says which modality was used and where its text came from (``text_source``, ``transcript``).

        Raises:
            UserError: transcripts for a speech-only model, or a list of transcripts of another length.
        """
        single, items = _as_inputs(x)
        texts = self._texts(text, single, len(items))
        results = list(self.iter_predict(items, texts))
        return results[0] if single else results

    def _texts(self, text: Any, single: bool, n: int) -> list[str | None] | None:
        if text is None:
            return None
        texts = [text] if single or isinstance(text, str) else list(text)
        if self.settings.modality != SPEECH_TEXT and any(texts):
            raise UserError(f"this model uses {self.settings.modality} only; give no transcript (text=...)")
        if len(texts) != n:
            raise UserError(f"{len(texts)} transcripts for {n} inputs; give one per input (None where there is none)")
        return texts

    def segments(
        self, x: Input | Sequence[Input], *, min_s: float = 1.0, max_s: float = 10.0, vad: VadSettings | None = None
    ) -> Prediction | list[Prediction]:
        """Speech segments of ``x`` (as ``predict``), each classified, and the file's speech-weighted distribution.

        Args:
            min_s, max_s: segment lengths after merging / splitting (``VadSettings``); ignored when ``vad`` is given.
            vad: all VAD settings (threshold, padding, merge gap, lengths).
        """
        single, items = _as_inputs(x)
        results = list(self.iter_segments(items, vad or VadSettings(min_s=min_s, max_s=max_s)))
        return results[0] if single else results

    def iter_predict(self, items: Sequence[Input], texts: Sequence[str | None] | None = None) -> Iterator[Prediction]:
        """``predict`` as a stream, in input order: inputs are decoded a few at a time, scored and released.
        ``texts``: a transcript per input (speech + text models), as ``predict``."""
        sources = [_source(it) for it in items]
        minimum = self.settings.min_samples
        groups = decoded_groups(
            items, sampling_rate=self.sampling_rate, window=self.window, minimum=minimum, decode=self._decode
        )
        for group in groups:
            ok = [(pos, wave) for pos, wave, _ in group if wave is not None]
            given = [texts[pos] if texts else None for pos, _ in ok]
            scored = iter(self._score_with_text([w for _, w in ok], given) if ok else ())
            for pos, wave, reason in group:
                if reason is not None:
                    logger.warning("could not label %s: %s", sources[pos], reason)
                    yield Prediction(source=sources[pos], error=reason)
                    continue
                result = next(scored)
                result.source, result.duration_s = sources[pos], len(wave) / self.sampling_rate
                yield result

    def iter_segments(self, items: Sequence[Input], vad: VadSettings) -> Iterator[Prediction]:
        """``segments`` as a stream, in input order."""
        detector = SileroVad()
        for item in items:
            source = _source(item)
            try:
                result = self._segments_of(item, detector, vad)
            except (AudioError, GitLfsPointerError, OSError) as e:
                result = Prediction(source=source, error=str(getattr(e, "reason", None) or e))
            result.source = source
            if result.error:
                logger.warning("could not segment %s: %s", source, result.error)
            yield result

    # ------------------------------------------------------------------------------------------ internals
    def _chosen_asr(self, asr: str | None) -> str | None:
        """``asr`` resolved (``hf_ser.modality.choose_asr``) and checked before any work."""
        if self.backend.name == "onnx" and asr not in (None, ASR_NONE, ASR_AUTO):
            raise UserError(
                f"asr={asr}: the ONNX backend runs no ASR (it imports neither torch nor transformers); load the saved "
                "model folder with the torch backend, or give the transcripts"
            )
        name = choose_asr(asr, modality=self.settings.modality, recorded=self.settings.asr)
        if name is None or self.backend.name == "onnx":
            return None
        from hf_ser.models.asr import check_recogniser

        check_recogniser(name)
        return name

    def _transcribe(self, waves: Sequence[np.ndarray]) -> list[str]:
        """The ASR's transcript of each wave (at the model's rate), ``batch_size`` waves per call."""
        if self._recogniser is None:
            from hf_ser.models.asr import build_asr

            self._recogniser = build_asr(self.asr, device=getattr(self.backend, "device", None))  # beside the model
        if self.sampling_rate != SAMPLE_RATE:
            waves = [resample(w, self.sampling_rate, SAMPLE_RATE) for w in waves]
        out: list[str] = []
        for start in range(0, len(waves), self.batch_size):
            out += self._recogniser.transcribe(waves[start : start + self.batch_size])
        return out

    def _score_with_text(self, waves: list[np.ndarray], given: Sequence[str | None]) -> list[Prediction]:
        """``_score`` with each wave's transcript: the given one, else the ASR's (when the model runs one), else
        none; every result says which (``text_source``) and carries the ASR's transcript."""
        has = [bool(t and str(t).strip()) for t in given]
        need = [i for i in range(len(waves)) if not has[i]] if self.asr else []
        made = dict(zip(need, self._transcribe([waves[i] for i in need]))) if need else {}
        texts = [given[i] if has[i] else made.get(i) for i in range(len(waves))]
        results = self._score(waves, texts if any(has) or made else None)
        for i, result in enumerate(results):
            result.text_source = TEXT_GIVEN if has[i] else TEXT_ASR if i in made else TEXT_NONE
            result.transcript = made.get(i)
        return results

    def _decode(self, item: Input) -> tuple[np.ndarray | None, str | None]:
        if isinstance(item, tuple):
            wave, reason = _array_wave(item, self.sampling_rate)
            if reason is None:
                reason = silence_reason(wave) or too_short(len(wave), self.settings.min_samples)
            return (None, reason) if reason else (wave, None)
        return decode_checked(item, self.sampling_rate, self.settings.min_samples)

    def _score(self, waves: list[np.ndarray], texts: Sequence[str | None] | None = None) -> list[Prediction]:
        """One ``Prediction`` per wave (no source yet): mean window logits -> softmax; window segments when a
        wave has more than one window; ``modality``: whether a transcript was used."""
        windows, logits, dims = self.backend.score(waves, self.window, self.batch_size, texts)
        clip_of = np.array([c for c, _, _ in windows])
        index = np.arange(len(windows))
        mean_logits = clip_means(clip_of, index, logits)[1] if logits is not None else None
        mean_dims = clip_means(clip_of, index, dims)[1] if dims is not None else None
        out = []
        for c in range(len(waves)):
            used_text = bool(texts and texts[c] and str(texts[c]).strip())
            result = Prediction(source="", modality=SPEECH_TEXT if used_text else SPEECH, **self._outputs(mean_logits, mean_dims, c))
            mine = np.flatnonzero(clip_of == c)
            if len(mine) > 1:
                result.segments = [
                    Segment(windows[k][1] / self.sampling_rate, windows[k][2] / self.sampling_rate, **self._outputs(logits, dims, k))
                    for k in mine
                ]
            out.append(result)
        return out

    def _outputs(self, logits: np.ndarray | None, dims: np.ndarray | None, row: int) -> dict[str, Any]:
        out: dict[str, Any] = {"label": None, "probabilities": {}, "dims": {}}
        if logits is not None:
            probs = softmax(logits[row] / self.temperature)
            out["probabilities"] = dict(zip(self.labels, map(float, probs)))
            out["label"] = self._answer(probs)
        if dims is not None:
            out["dims"] = dict(zip(self.dims, map(float, dims[row])))
        return out

    def _answer(self, probs: np.ndarray) -> str | None:
        """The most probable class, or ``ABSTAIN`` below ``min_confidence`` (``results.answer``)."""
        return answer(dict(zip(self.labels, map(float, probs))), self.min_confidence)

    def _segments_of(self, item: Input, detector: SileroVad, vad: VadSettings) -> Prediction:
        if isinstance(item, tuple):
            wave, reason = _array_wave(item, SAMPLE_RATE)
            if reason:
                return Prediction(source="", error=reason)
            n_samples, blocks = len(wave), (lambda: iter([wave]))
        else:
            n_samples = int(round(read_info(item).duration_s * SAMPLE_RATE))
            blocks = lambda: read_blocks(item, target_sr=SAMPLE_RATE)  # noqa: E731  (read twice: VAD, then spans)
        probs = detector.probabilities(blocks())
        spans, dropped = fit_spans(speech_spans(probs, n_samples, vad), vad)
        duration = n_samples / SAMPLE_RATE
        if dropped:
            logger.info("%s: %d speech bursts shorter than min_s=%.2f s left out", _source(item), len(dropped), vad.min_s)
        if not spans:
            short_s = sum(e - s for s, e in dropped) / SAMPLE_RATE
            reason = (
                f"no speech segment of at least min_s={vad.min_s} s ({len(dropped)} shorter, {short_s:.2f} s in all; "
                "lower min_s / --min-s to classify them)"
                if dropped
                else f"no speech found (Silero VAD, threshold {vad.threshold})"
            )
            return Prediction(source="", duration_s=duration, speech_s=0.0, error=reason)
        segments: list[Segment] = []
        batch: list[tuple[tuple[int, int], np.ndarray]] = []
        for span, wave in cut_spans(blocks(), spans):
            batch.append((span, resample(wave, SAMPLE_RATE, self.sampling_rate)))
            if len(batch) >= GROUP_WINDOWS:
                segments += self._score_spans(batch)
                batch = []
        segments += self._score_spans(batch)
        return self._speech_summary(segments, duration)

    def _score_spans(self, batch: list[tuple[tuple[int, int], np.ndarray]]) -> list[Segment]:
        if not batch:
            return []
        scored = self._score_with_text([w for _, w in batch], [None] * len(batch))
        return [
            Segment(s / SAMPLE_RATE, e / SAMPLE_RATE, label=p.label, probabilities=p.probabilities, dims=p.dims,
                    modality=p.modality, text_source=p.text_source, transcript=p.transcript)
            for ((s, e), _), p in zip(batch, scored)
        ]

    def _speech_summary(self, segments: list[Segment], duration_s: float) -> Prediction:
        """The file's distribution (and dims): the duration-weighted mean over its speech segments."""
        weights = np.array([s.duration_s for s in segments], dtype=np.float64)
        total = float(weights.sum())
        result = Prediction(source="", duration_s=duration_s, segments=segments, speech_s=total)
        # The file used a transcript where any of its segments did; the ASR's transcript is its segments' in order.
        result.modality = SPEECH_TEXT if any(s.modality == SPEECH_TEXT for s in segments) else SPEECH
        result.text_source = TEXT_ASR if any(s.text_source == TEXT_ASR for s in segments) else TEXT_NONE
        if result.text_source == TEXT_ASR:
            result.transcript = " ".join(s.transcript for s in segments if s.transcript)
        if self.labels:
            probs = np.array([[s.probabilities[lab] for lab in self.labels] for s in segments]) * weights[:, None]
            mean = probs.sum(axis=0) / total
            result.probabilities = dict(zip(self.labels, map(float, mean)))
            result.label = self._answer(mean)
        if self.dims:
            values = np.array([[s.dims[d] for d in self.dims] for s in segments]) * weights[:, None]
            result.dims = dict(zip(self.dims, map(float, values.sum(axis=0) / total)))
        return result


def _as_inputs(x: Any) -> tuple[bool, list[Input]]:
    if isinstance(x, (str, Path)) or _is_audio(x):
        return True, [x]
    if isinstance(x, np.ndarray):
        raise TypeError("an array needs its sampling rate: predict((array, sampling_rate))")
    items = list(x)
    for it in items:
        if not (isinstance(it, (str, Path)) or _is_audio(it)):
            raise TypeError(f"inputs are paths or (array, sampling_rate) pairs, got {type(it).__name__}")
    return False, [tuple(it) if isinstance(it, list) else it for it in items]


def _is_audio(x: Any) -> bool:
    return isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], np.ndarray) and isinstance(x[1], (int, np.integer))


def _source(item: Input) -> str:
    return ARRAY_SOURCE if isinstance(item, tuple) else str(item)


def _array_wave(item: Audio, target_sr: int) -> tuple[np.ndarray | None, str | None]:
    """An in-memory ``(array, rate)`` as mono float32 at ``target_sr``, or the reason it is unusable."""
    array, rate = item
    wave = np.asarray(array, dtype=np.float32)
    if wave.ndim == 2:
        wave = wave.mean(axis=1)  # (samples, channels), soundfile's layout
    if wave.ndim != 1 or wave.size == 0:
        return None, f"expected audio of shape (samples,) or (samples, channels), got {np.shape(array)}"
    if not np.isfinite(wave).all():
        return None, "audio contains NaN or inf samples"
    if int(rate) <= 0:
        return None, f"sampling rate must be positive, got {rate}"
    return resample(wave, int(rate), target_sr), None
