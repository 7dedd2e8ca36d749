"""ONNX export of a saved hf_ser model, with a parity check against PyTorch, and an onnxruntime classifier.

The graph takes the **raw** 16 kHz mono waveform: ``waveform: (batch, samples) float32`` and
``attention_mask: (batch, samples) int64`` (1 on real samples, 0 on padding), both with dynamic batch and length
axes, and returns ``logits: (batch, num_labels)`` (the dims predictions for a regression model). The saved
feature extractor's per-clip normalisation (zero mean, unit variance over the real samples, padding zeroed) is in
the graph, and so is the whole model: for Whisper backbones also the log-mel front end. Labels
(``id2label``), the opset and the tolerance the export was checked at are stored in the file's metadata.

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
from types import SimpleNamespace

import numpy as np
import torch
from torch import nn

from hf_ser.audio import SAMPLE_RATE

logger = logging.getLogger(__name__)

OPSET = 17
TOLERANCE = 1e-4
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


def export_onnx(
    model_dir: str | Path, out_path: str | Path, *, opset: int = OPSET, check: bool = True, trust_remote_code: bool = False
) -> ParityReport | None:
    """Export a saved model (``save_pretrained`` folder) to ONNX and, by default, check it against PyTorch.

    ``trust_remote_code``: run Python code shipped in the folder (never done otherwise; see
    ``hf_ser.evaluation.inference.load_model``).

    Raises:
        ExportError: unsupported head, or parity above ``TOLERANCE`` (the file is still written, for inspection).
        ForeignCodeError: the folder ships code that differs from hf_ser's and ``trust_remote_code`` is off.
    """
    model, normalize = _load(model_dir, trust_remote_code=trust_remote_code, attn_implementation="eager")
    pooling = getattr(model.config, "pooling", None)
    if pooling in UNSUPPORTED_POOLING:
        raise ExportError(f"pooling={pooling!r} does not export to ONNX: {UNSUPPORTED_POOLING[pooling]}")
    model._static_masks = True
    wrapper = _RawWaveformModel(model, normalize).eval()
    waveform, mask = parity_inputs()["3 s + 0.5 s padded"]
    out_path = Path(out_path)
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
    _write_metadata(out_path, model, opset)
    if not check:
        return None
    report = check_parity(model_dir, out_path, trust_remote_code=trust_remote_code)
    if not report.ok:
        raise ExportError(f"{out_path}: ONNX logits differ from PyTorch by {report.max_abs_diff} (tolerance {report.tolerance})")
    return report


def _write_metadata(path: Path, model, opset: int) -> None:
    import onnx

    from hf_ser.evaluation.inference import WINDOW_CONFIG_KEY, min_samples, window_seconds

    proto = onnx.load(str(path))
    id2label = {int(i): name for i, name in model.config.id2label.items()}
    for key, value in {
        "id2label": json.dumps(id2label),
        "sampling_rate": str(SAMPLE_RATE),
        WINDOW_CONFIG_KEY: str(window_seconds(model.config)),
        "min_samples": str(min_samples(model.config)),
        "input": "raw 16 kHz mono waveform + attention_mask (normalisation and features are in the graph)",
        "opset": str(opset),
        "parity_tolerance": str(TOLERANCE),
    }.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(path))


def check_parity(model_dir: str | Path, onnx_path: str | Path, *, trust_remote_code: bool = False) -> ParityReport:
    """Largest logit difference between onnxruntime on ``onnx_path`` and PyTorch on ``model_dir`` (default
    attention implementation), on ``parity_inputs()``."""
    model, normalize = _load(model_dir, trust_remote_code=trust_remote_code)
    reference = _RawWaveformModel(model, normalize).eval()
    session = _session(onnx_path)
    report = ParityReport()
    for name, (waveform, mask) in parity_inputs().items():
        with torch.no_grad():
            expected = reference(torch.from_numpy(waveform), torch.from_numpy(mask)).numpy()
        (actual,) = session.run(["logits"], {"waveform": waveform, "attention_mask": mask})
        report.max_abs_diff[name] = float(np.abs(actual - expected).max())
    return report


def _session(onnx_path: str | Path):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    return onnxruntime.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])


class OnnxModel:
    """An exported graph run by onnxruntime behind the interface ``hf_ser.evaluation.inference`` drives
    (``config``, ``eval`` / ``train``, ``model(input_values=..., attention_mask=...).logits``): ``hf-ser predict
    --backend onnx`` windows and averages exactly as with the PyTorch model. Feed raw waveforms (the graph
    normalises)."""

    training = False

    def __init__(self, onnx_path: str | Path) -> None:
        from transformers import PretrainedConfig

        from hf_ser.evaluation.inference import WINDOW_CONFIG_KEY

        self.session = _session(onnx_path)
        meta = self.session.get_modelmeta().custom_metadata_map
        if "id2label" not in meta:
            raise ExportError(f"{onnx_path}: no id2label metadata; export it with `hf-ser export onnx`")
        id2label = {int(i): name for i, name in json.loads(meta["id2label"]).items()}
        self.config = PretrainedConfig(id2label=id2label)
        if WINDOW_CONFIG_KEY in meta:
            setattr(self.config, WINDOW_CONFIG_KEY, float(meta[WINDOW_CONFIG_KEY]))
        self.min_samples = int(meta.get("min_samples", 1))

    def eval(self) -> OnnxModel:
        return self

    def train(self, mode: bool = True) -> OnnxModel:
        return self

    def __call__(self, input_values: torch.Tensor, attention_mask: torch.Tensor | None = None, **_) -> SimpleNamespace:
        if attention_mask is None:
            attention_mask = torch.ones_like(input_values, dtype=torch.long)
        feeds = {"waveform": input_values.float().cpu().numpy(), "attention_mask": attention_mask.long().cpu().numpy()}
        (logits,) = self.session.run(["logits"], feeds)
        return SimpleNamespace(logits=torch.from_numpy(logits))
