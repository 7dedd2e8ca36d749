"""The two ways ``hf_ser.load`` runs a model: PyTorch (a saved model folder or Hub id) and onnxruntime (an
``hf-ser export onnx`` file).

Both give the API the same thing: ``settings`` (labels, dims, rates, window) and ``score(waves, window,
batch_size) -> (windows, logits, dims)`` over the windows of ``hf_ser.evaluation.windowing``. The PyTorch backend
scores through ``hf_ser.evaluation.inference.score_windows``, the very function training and ``hf-ser evaluate``
use; the ONNX backend imports neither torch nor transformers (numpy, onnxruntime and the settings JSON written
beside the graph), so an inference image needs neither.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from hf_ser.audio import SAMPLE_RATE
from hf_ser.errors import UserError, first_line
from hf_ser.evaluation.windowing import DEFAULT_WINDOW_S, WINDOW_CONFIG_KEY, clip_windows
from hf_ser.modality import SPEECH, recorded_asr

BACKENDS = ("torch", "onnx")
ONNX_FILE = "model.onnx"  # the graph inside an exported folder; its settings are ONNX_FILE's stem + ".json"
TASKS_WITH_CLASSES = ("classification", "multitask")
TASKS_WITH_DIMS = ("regression", "multitask")

Windows = list[tuple[int, int, int]]  # (clip, start, end) per window


@dataclass
class ModelSettings:
    """What inference needs besides the weights; the plain JSON written beside an exported ONNX graph.

    ``inference_window_s`` is the training crop (the windowing rule's window); ``min_samples`` the shortest
    input the model's CNN accepts; ``normalize`` whether the feature extractor normalises each clip (in the ONNX
    graph already, recorded for the reader).
    """

    labels: list[str]
    task: str = "classification"
    dims: list[str] = field(default_factory=list)
    sampling_rate: int = SAMPLE_RATE
    inference_window_s: float = DEFAULT_WINDOW_S
    min_samples: int = 1
    normalize: bool = True
    temperature: float = 1.0  # fitted on validation by training (``train.temperature_scaling``); 1.0 = raw logits
    modality: str = SPEECH  # ``speech+text``: a speech + text model (it also predicts from speech alone)
    asr: str | None = None  # the recogniser of its training transcripts (``hf_ser.modality.recorded_asr``)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Any, *, sampling_rate: int, min_samples: int, normalize: bool) -> ModelSettings:
        """From a transformers config (``id2label``, ``task``, ``dims``, ``inference_window_s``)."""
        task = str(getattr(config, "task", "classification") or "classification")
        id2label = {int(i): str(name) for i, name in config.id2label.items()}
        return cls(
            labels=[id2label[i] for i in range(len(id2label))] if task in TASKS_WITH_CLASSES else [],
            task=task,
            dims=[str(d) for d in getattr(config, "dims", None) or []] if task in TASKS_WITH_DIMS else [],
            sampling_rate=int(sampling_rate),
            inference_window_s=float(getattr(config, WINDOW_CONFIG_KEY, None) or DEFAULT_WINDOW_S),
            min_samples=int(min_samples),
            normalize=bool(normalize),
            temperature=float((getattr(config, "calibration", None) or {}).get("temperature", 1.0)),
            modality=str(getattr(config, "modality", SPEECH)),
            asr=recorded_asr(config),
        )

    def write(self, path: str | Path) -> Path:
        Path(path).write_text(json.dumps(asdict(self), indent=2) + "\n")
        return Path(path)

    @classmethod
    def read(cls, path: str | Path) -> ModelSettings:
        data = json.loads(Path(path).read_text())
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


def settings_path(onnx_path: str | Path) -> Path:
    """The settings JSON of an ONNX graph: ``model.onnx`` -> ``model.json``, ``model.int8.onnx`` ->
    ``model.int8.json``."""
    p = Path(onnx_path)
    return p.with_name(p.name[: -len(".onnx")] + ".json") if p.name.endswith(".onnx") else p.with_suffix(".json")


class Backend(Protocol):
    """What ``hf_ser.inference.api.EmotionModel`` drives."""

    name: str
    settings: ModelSettings

    def score(
        self, waves: Sequence[np.ndarray], window: int, batch_size: int, texts: Sequence[str | None] | None = None
    ) -> tuple[Windows, np.ndarray | None, np.ndarray | None]:
        """``(windows, logits, dims)``: per window of ``waves`` (windowing rule), its logits ``(n, classes)``
        (``None`` for a regression model) and dims ``(n, n_dims)`` (``None`` without a dimensional head).
        ``texts``: a transcript per wave for a speech + text model (None / "" for speech alone)."""
        ...


class TorchBackend:
    """A saved model folder or Hub id, run by PyTorch exactly as ``hf-ser evaluate`` runs it."""

    name = "torch"

    def __init__(self, source: str | Path, *, device: str | None = None, trust_remote_code: bool = False) -> None:
        import torch

        from hf_ser.evaluation.inference import collator_for, load_model, min_samples

        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            self.model, extractor = load_model(source, trust_remote_code=trust_remote_code, device=self.device)
        except OSError as e:  # transformers' "not a folder, not a Hub id" (and offline misses)
            raise UserError(
                f"{source}: no model loads from it ({first_line(e)}); give a saved model folder (runs/<name>/model) or a "
                "Hub repo id, or an `hf-ser export onnx` folder with --backend onnx"
            ) from e
        self.collate = collator_for(extractor)
        self.tokenizer = None
        if getattr(self.model.config, "text_config", None) is not None:  # a speech + text model: its tokenizer
            from transformers import AutoTokenizer

            self.tokenizer = AutoTokenizer.from_pretrained(source)
        self.settings = ModelSettings.from_config(
            self.model.config,
            sampling_rate=int(getattr(extractor, "sampling_rate", SAMPLE_RATE) or SAMPLE_RATE),
            min_samples=min_samples(self.model.config),
            normalize=bool(getattr(extractor, "do_normalize", True)),
        )

    def score(self, waves, window, batch_size, texts=None):
        from hf_ser.evaluation.inference import score_windows
        from hf_ser.models.text_encoder import tokenize

        text_ids = None
        if self.tokenizer is not None:
            text_ids = tokenize(self.tokenizer, texts or [None] * len(waves), self.model.config.text_max_tokens)
        kwargs = dict(window=window, batch_size=batch_size, collate_fn=self.collate, device=self.device, text_ids=text_ids)
        windows, logits, dims = clip_windows_of(waves, window), None, None
        if self.settings.task in TASKS_WITH_CLASSES:
            windows, logits = score_windows(self.model, waves, output="logits", **kwargs)
        if self.settings.task in TASKS_WITH_DIMS:  # a second pass for multitask: score_windows reads one output
            windows, dims = score_windows(self.model, waves, output="dims", **kwargs)
        return windows, logits, dims


def clip_windows_of(waves: Sequence[np.ndarray], window: int) -> Windows:
    """Every ``(clip, start, end)`` window of ``waves``, clip by clip (the order ``score_windows`` uses)."""
    return [(c, s, e) for c, w in enumerate(waves) for s, e in clip_windows(len(w), window)]


def onnx_session(onnx_path: str | Path, threads: int = 1):
    """An onnxruntime CPU session (``threads`` intra-op threads: one by default, the shared-machine setting)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    return onnxruntime.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])


def resolve_onnx(source: str | Path) -> tuple[Path, Path]:
    """``(graph, settings JSON)`` of an exported folder (its ``model.onnx``) or of an ``.onnx`` file.

    Raises:
        UserError: no graph, or no settings JSON beside it (naming the command that writes both).
    """
    path = Path(source).expanduser()
    graph = path / ONNX_FILE if path.is_dir() else path
    if not graph.is_file():
        raise UserError(f"{graph}: no ONNX graph there; write one with `hf-ser export onnx MODEL_DIR {path}`")
    meta = settings_path(graph)
    if not meta.is_file():
        raise UserError(
            f"{meta}: missing; the ONNX backend reads labels and window settings from it. "
            f"Re-export with `hf-ser export onnx MODEL_DIR {graph.parent}` (it writes {graph.name} and {meta.name})"
        )
    return graph, meta


class OnnxBackend:
    """An exported graph (raw 16 kHz waveform + mask in, logits out) run by onnxruntime; no torch anywhere."""

    name = "onnx"

    def __init__(self, source: str | Path, *, threads: int = 1) -> None:
        graph, meta = resolve_onnx(source)
        self.path = graph
        self.settings = ModelSettings.read(meta)
        self.session = onnx_session(graph, threads)

    def score(self, waves, window, batch_size, texts=None):
        if texts and any(texts):
            raise UserError("the ONNX backend scores speech only; give transcripts to the torch backend")
        windows = clip_windows_of(waves, window)
        width = len(self.settings.labels) if self.settings.task != "regression" else len(self.settings.dims)
        out = np.zeros((len(windows), width), dtype=np.float32)
        # Longest first, like the torch path's length buckets: little padding inside a batch.
        order = sorted(range(len(windows)), key=lambda k: -(windows[k][2] - windows[k][1]))
        for b in range(0, len(order), batch_size):
            chunk = order[b : b + batch_size]
            longest = max(windows[k][2] - windows[k][1] for k in chunk)
            batch = np.zeros((len(chunk), longest), dtype=np.float32)
            mask = np.zeros((len(chunk), longest), dtype=np.int64)
            for row, k in enumerate(chunk):
                clip, start, end = windows[k]
                batch[row, : end - start], mask[row, : end - start] = waves[clip][start:end], 1
            (out[chunk],) = self.session.run(["logits"], {"waveform": batch, "attention_mask": mask})
        if self.settings.task == "regression":
            return windows, None, out
        return windows, out, None


def open_backend(
    source: str | Path,
    backend: str = "torch",
    *,
    device: str | None = None,
    trust_remote_code: bool = False,
    threads: int = 1,
) -> Backend:
    """The backend named ``backend`` on ``source`` (``threads``: onnxruntime's intra-op threads).

    Raises:
        UserError: an unknown backend name, or an ONNX source without its graph or settings.
    """
    if backend == "torch":
        return TorchBackend(source, device=device, trust_remote_code=trust_remote_code)
    if backend == "onnx":
        return OnnxBackend(source, threads=threads)
    raise UserError(f"backend={backend!r} is not one of {list(BACKENDS)}")
