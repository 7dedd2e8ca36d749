"""ONNX export of a saved hf_ser model, with a parity check against PyTorch, and an onnxruntime classifier.

The graph takes the **raw** 16 kHz mono waveform: ``waveform: (batch, samples) float32`` and
``attention_mask: (batch, samples) int64`` (1 on real samples, 0 on padding), both with dynamic batch and length
axes, and returns ``logits: (batch, num_labels)`` (the dims predictions for a regression model). The saved
feature extractor's per-clip normalisation (zero mean, unit variance over the real samples, padding zeroed) is in
the graph, and so is the whole model: for Whisper backbones also the log-mel front end. Labels
(``id2label``), the opset and the tolerance the export was checked at are stored in the file's metadata, and
everything inference needs (labels, task and dims, sampling rate, window, minimum length, the extractor's
normalisation) in a plain JSON beside it (``model.onnx`` -> ``model.json``, ``hf_ser.inference.ModelSettings``):
``hf_ser.load(folder, backend="onnx")`` reads that and imports neither torch nor transformers.

``quantize_int8`` writes ``model.int8.onnx`` (onnxruntime dynamic quantization: int8 weights of the MatMul /
Gemm layers, activations quantized on the fly) and ``compare_onnx`` measures it against fp32 on audio files:
label agreement, the largest probability difference, and the speed ratio (interleaved rounds, medians).

Export uses the TorchScript-based ``torch.onnx.export`` at opset ``OPSET`` with eager attention and attention
masks built from shapes only (``SerForSequenceClassification._static_masks``), so no "is anything padded?" branch
is frozen into the graph. ``check_parity`` then runs the exported file with onnxruntime on several lengths and
batch compositions (0.5 s, 3 s, and both padded into one batch) and fails when any logit differs from PyTorch's
by ``TOLERANCE`` or more (fp32).

Not exported: the ``bilstm`` pooling head (packed sequences need their lengths on the host), and Whisper
inputs longer than 30 s (PyTorch cuts them to 30 s; the exported graph has no such branch and fails).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from hf_ser.audio import SAMPLE_RATE
from hf_ser.evaluation.inference import min_samples
from hf_ser.evaluation.windowing import WINDOW_CONFIG_KEY
from hf_ser.inference.backends import ONNX_FILE, ModelSettings, onnx_session, settings_path

logger = logging.getLogger(__name__)

OPSET = 17
TOLERANCE = 1e-4
GRAPH_INPUT = "raw 16 kHz mono waveform + attention_mask (normalisation and features are in the graph)"
UNSUPPORTED_POOLING = {"bilstm": "packed sequences (pack_padded_sequence) need their lengths on the host"}


class ExportError(RuntimeError):
    """The model cannot be exported, or the exported graph does not match PyTorch within the tolerance."""


class _RawWaveformModel(nn.Module):
    """Raw waveform + mask -> logits: the feature extractor's normalisation, then the model (what gets exported)."""

    def __init__(self, model: nn.Module, normalize: bool) -> None:
        super().__init__()
        self.model = model
        self.normalize = normalize

    def forward(self, waveform: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        if self.normalize:
            waveform = normalize_waveforms(waveform, attention_mask)
        return self.model(input_values=waveform, attention_mask=attention_mask).logits


def normalize_waveforms(waveform: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """``Wav2Vec2FeatureExtractor(do_normalize=True)`` on a padded batch: per clip over its real samples,
    ``(x - mean) / sqrt(var + 1e-7)``, padding set to 0."""
    mask = attention_mask.to(waveform.dtype)
    count = mask.sum(dim=-1, keepdim=True).clamp(min=1.0)
    mean = (waveform * mask).sum(dim=-1, keepdim=True) / count
    var = (((waveform - mean) * mask) ** 2).sum(dim=-1, keepdim=True) / count
    return (waveform - mean) / torch.sqrt(var + 1e-7) * mask


@dataclass
class ParityReport:
    """Largest |ONNX - PyTorch| logit difference per input case."""

    max_abs_diff: dict[str, float] = field(default_factory=dict)
    tolerance: float = TOLERANCE

    @property
    def ok(self) -> bool:
        return all(diff < self.tolerance for diff in self.max_abs_diff.values())


def _load(model_dir: str | Path, *, trust_remote_code: bool, attn_implementation: str | None = None):
    """The model in fp32 and whether its feature extractor normalises; evaluation's loader, so the folder's own
    code runs only with ``trust_remote_code`` and transformers never prompts for it."""
    from hf_ser.evaluation.inference import load_model

    model, extractor = load_model(model_dir, trust_remote_code=trust_remote_code, attn_implementation=attn_implementation)
    return model.float(), bool(getattr(extractor, "do_normalize", False))


def parity_inputs(seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The parity cases: 0.5 s alone, 3 s alone, and both padded into one batch (raw waveforms, int64 masks)."""
    rng = np.random.default_rng(seed)
    short = (0.1 * rng.standard_normal(SAMPLE_RATE // 2)).astype(np.float32)
    long = (0.1 * rng.standard_normal(3 * SAMPLE_RATE)).astype(np.float32)
    batch = np.zeros((2, len(long)), dtype=np.float32)
    mask = np.zeros((2, len(long)), dtype=np.int64)
    batch[0], mask[0] = long, 1
    batch[1, : len(short)], mask[1, : len(short)] = short, 1
    return {
        "0.5 s": (short[None], np.ones((1, len(short)), dtype=np.int64)),
        "3 s": (long[None], np.ones((1, len(long)), dtype=np.int64)),
        "3 s + 0.5 s padded": (batch, mask),
    }


def onnx_target(out: str | Path) -> Path:
    """The graph file for an export target: ``out`` itself when it ends in ``.onnx``, else ``out/model.onnx``."""
    out = Path(out)
    return out if out.suffix == ".onnx" else out / ONNX_FILE


def export_onnx(
    model_dir: str | Path, out_path: str | Path, *, opset: int = OPSET, check: bool = True, trust_remote_code: bool = False
) -> ParityReport | None:
    """Export a saved model (``save_pretrained`` folder) to ONNX and, by default, check it against PyTorch.

    ``out_path``: an ``.onnx`` file, or a folder (``model.onnx`` inside); the settings JSON goes beside the graph.
    ``trust_remote_code``: run Python code shipped in the folder (never done otherwise; see
    ``hf_ser.evaluation.inference.load_model``).

    Raises:
        ExportError: unsupported head, or parity above ``TOLERANCE`` (the file is still written, for inspection).
        ForeignCodeError: the folder ships code that differs from hf_ser's and ``trust_remote_code`` is off.
    """
    model, normalize = _load(model_dir, trust_remote_code=trust_remote_code, attn_implementation="eager")
    out_path = onnx_target(out_path)
    pooling = getattr(model.config, "pooling", None)
    if pooling in UNSUPPORTED_POOLING:
        raise ExportError(f"pooling={pooling!r} does not export to ONNX: {UNSUPPORTED_POOLING[pooling]}")
    if getattr(model.config, "text_config", None) is not None:
        # The graph takes a waveform only: exported, a speech + text model would silently ignore transcripts.
        raise ExportError("a speech+text model (model.text_encoder) does not export to ONNX; use the torch backend")
    model._static_masks = True
    wrapper = _RawWaveformModel(model, normalize).eval()
    waveform, mask = parity_inputs()["3 s + 0.5 s padded"]
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            wrapper,
            (torch.from_numpy(waveform), torch.from_numpy(mask)),
            str(out_path),
            input_names=["waveform", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={"waveform": {0: "batch", 1: "samples"}, "attention_mask": {0: "batch", 1: "samples"}, "logits": {0: "batch"}},
            opset_version=opset,
            dynamo=False,
        )
    settings = ModelSettings.from_config(
        model.config, sampling_rate=SAMPLE_RATE, min_samples=min_samples(model.config), normalize=normalize
    )
    settings.extra = {"opset": opset, "parity_tolerance": TOLERANCE, "input": GRAPH_INPUT}
    settings.write(settings_path(out_path))
    _write_metadata(out_path, settings)
    if not check:
        return None
    report = check_parity(model_dir, out_path, trust_remote_code=trust_remote_code)
    if not report.ok:
        raise ExportError(f"{out_path}: ONNX logits differ from PyTorch by {report.max_abs_diff} (tolerance {report.tolerance})")
    return report


def _write_metadata(path: Path, settings: ModelSettings) -> None:
    """The settings, also as the graph's metadata (for tools that read only the ``.onnx`` file)."""
    import onnx

    proto = onnx.load(str(path))
    entries = {
        "id2label": json.dumps(dict(enumerate(settings.labels))),
        "sampling_rate": str(settings.sampling_rate),
        WINDOW_CONFIG_KEY: str(settings.inference_window_s),
        "min_samples": str(settings.min_samples),
        **{k: str(v) for k, v in settings.extra.items()},
    }
    for key, value in entries.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(path))


def check_parity(model_dir: str | Path, onnx_path: str | Path, *, trust_remote_code: bool = False) -> ParityReport:
    """Largest logit difference between onnxruntime on ``onnx_path`` and PyTorch on ``model_dir`` (default
    attention implementation), on ``parity_inputs()``."""
    model, normalize = _load(model_dir, trust_remote_code=trust_remote_code)
    reference = _RawWaveformModel(model, normalize).eval()
    session = onnx_session(onnx_target(onnx_path))
    report = ParityReport()
    for name, (waveform, mask) in parity_inputs().items():
        with torch.no_grad():
            expected = reference(torch.from_numpy(waveform), torch.from_numpy(mask)).numpy()
        (actual,) = session.run(["logits"], {"waveform": waveform, "attention_mask": mask})
        report.max_abs_diff[name] = float(np.abs(actual - expected).max())
    return report


def quantize_int8(fp32_path: str | Path) -> Path:
    """Write the int8 graph beside ``fp32_path`` (``model.onnx`` -> ``model.int8.onnx``, with its settings JSON).

    onnxruntime dynamic quantization: MatMul / Gemm weights stored as int8, activations quantized per batch at
    run time; the convolutional feature encoder stays fp32 (dynamic quantization of Conv is slower on CPU).
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fp32_path = onnx_target(fp32_path)
    out = fp32_path.with_name(fp32_path.name[: -len(".onnx")] + ".int8.onnx")
    quantize_dynamic(str(fp32_path), str(out), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul", "Gemm"])
    settings = ModelSettings.read(settings_path(fp32_path))
    settings.extra = {**settings.extra, "quantization": "int8 dynamic (onnxruntime quantize_dynamic, MatMul/Gemm)"}
    settings.write(settings_path(out))
    return out


@dataclass
class QuantReport:
    """int8 against fp32 on the same clips: label agreement, largest |probability difference|, speed."""

    clips: int
    agreement: float
    max_prob_diff: float
    fp32_s: float
    int8_s: float
    rounds: int

    @property
    def speed_ratio(self) -> float:
        """fp32 time / int8 time (above 1: int8 is faster)."""
        return self.fp32_s / self.int8_s if self.int8_s > 0 else float("nan")


def compare_onnx(fp32_path: str | Path, int8_path: str | Path, clips: list[Path], *, rounds: int = 3) -> QuantReport:
    """Run both graphs through ``hf_ser.load(..., backend="onnx").predict`` on ``clips``, ``rounds`` times
    interleaved (fp32, int8, fp32, ...): agreement and differences from the first round, times as medians."""
    import time

    from hf_ser.inference import load

    models = {"fp32": load(fp32_path, backend="onnx"), "int8": load(int8_path, backend="onnx")}
    times: dict[str, list[float]] = {name: [] for name in models}
    results: dict[str, list] = {}
    for _ in range(max(1, rounds)):
        for name, model in models.items():
            start = time.perf_counter()
            out = model.predict(list(clips))
            times[name].append(time.perf_counter() - start)
            results.setdefault(name, out)
    pairs = [(a, b) for a, b in zip(results["fp32"], results["int8"]) if a.ok and b.ok]
    if not pairs:
        raise ExportError("no clip of the comparison set could be labelled; give other audio with --check-audio")
    agree = sum(a.label == b.label for a, b in pairs) / len(pairs)
    diff = max(abs(a.probabilities[k] - b.probabilities[k]) for a, b in pairs for k in a.probabilities) if pairs[0][0].probabilities else 0.0
    return QuantReport(
        clips=len(pairs), agreement=agree, max_prob_diff=float(diff),
        fp32_s=float(np.median(times["fp32"])), int8_s=float(np.median(times["int8"])), rounds=max(1, rounds),
    )
