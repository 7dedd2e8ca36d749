"""Export a saved hf_ser model as a stock transformers class, when its head can be expressed exactly.

``hf-ser export transformers MODEL_DIR OUT_DIR`` writes a ``Wav2Vec2ForSequenceClassification`` (or the
HuBERT / WavLM / data2vec-audio twin) that loads in ``pipeline("audio-classification", model=OUT_DIR)`` with
neither hf_ser installed nor ``trust_remote_code``: the Hub's inference widget and plain pipeline users can use
it. The folder holds no Python code.

**Why the mapping is exact.** The stock head is ``classifier(masked_mean(projector(h)))`` over the last hidden
state ``h`` (or the softmax-weighted sum of all hidden states, ``use_weighted_layer_sum``), where ``projector``
and ``classifier`` are both linear. hf_ser's ``mean`` pooling head is ``classifier(masked_mean(h))``. A masked
mean commutes with an affine map, so hf_ser's classifier becomes the stock ``projector``
(``classifier_proj_size = num_labels``) and the stock ``classifier`` is the identity. Both mask padding frames
the same way (``_get_feature_vector_attention_mask``), hf_ser's weighted sum uses the same hidden-state list as
transformers' (the last one normalised for stable-layer-norm models), and an int ``layers`` already cut the
backbone's depth. Frozen layers, a frozen feature encoder and SpecAugment change training only. The export is
then checked: every logit of the stock model on ``onnx_export.parity_inputs`` (0.5 s, 3 s, both padded into one
batch) must be within ``TOLERANCE`` of hf_ser's, or nothing is written.

**Refused, with the reason** (``stock_form_refusal``): pooling other than ``mean`` (statistics, max, attention
and BiLSTM heads have no stock counterpart), a hidden ReLU layer (``model.head_hidden_size``), regression /
multitask heads, unmerged LoRA adapters, and the backbones in ``NOT_EXACT``: Whisper (transformers'
``WhisperForAudioClassification`` takes log-mel features padded to 30 s from its feature extractor; hf_ser
computes log-mel inside the model on the real length) and data2vec-audio (padding between its positional convs).
``layers: weighted`` on a stable-layer-norm backbone (XLSR, XLS-R) is refused under transformers 5, whose
``hidden_states[-1]`` comes before the final layer norm (hf_ser's, like transformers 4's, after it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hf_ser.errors import UserError

logger = logging.getLogger(__name__)

TOLERANCE = 1e-5
# backbone model_type -> the transformers class with the same encoder and a mean-pooling head.
STOCK_CLASSES: dict[str, str] = {
    "wav2vec2": "Wav2Vec2ForSequenceClassification",
    "hubert": "HubertForSequenceClassification",
    "wavlm": "WavLMForSequenceClassification",
}
# Backbones with a stock class whose forward differs from hf_ser's: backbone model_type -> why.
NOT_EXACT: dict[str, str] = {
    "data2vec-audio": (
        "transformers' data2vec-audio positional convs read the padding frames that hf_ser re-zeroes between "
        "them, so clips padded in a batch score differently"
    ),
    "whisper": (
        "transformers' WhisperForAudioClassification takes log-mel features padded to 30 s from its feature "
        "extractor, hf_ser computes log-mel inside the model on the real length"
    ),
}
# What ``export_transformers`` writes into the exported config, so the folder says where it came from.
EXPORT_CONFIG_KEY = "hf_ser_export"


class StockFormRefused(UserError, ValueError):
    """The model's head has no exact stock transformers counterpart; the message says why and what to use."""


class StockExportError(RuntimeError):
    """The stock model's logits differ from hf_ser's beyond ``TOLERANCE`` (nothing was written)."""


@dataclass
class StockExportReport:
    """What ``export_transformers`` wrote and how closely it matches hf_ser's own model."""

    class_name: str
    max_abs_diff: dict[str, float] = field(default_factory=dict)
    tolerance: float = TOLERANCE

    @property
    def ok(self) -> bool:
        return all(diff < self.tolerance for diff in self.max_abs_diff.values())


def stock_form_refusal(config) -> str | None:
    """Why a saved model's config has no exact stock transformers form, or None when it has one."""
    if getattr(config, "model_type", None) != "hf_ser":
        return f"it is not an hf_ser model (model_type {getattr(config, 'model_type', None)!r})"
    backbone = config.backbone_config.model_type
    if backbone in NOT_EXACT:
        return f"its backbone is {backbone}: {NOT_EXACT[backbone]}"
    if backbone not in STOCK_CLASSES:
        return f"backbone {backbone!r} has no stock sequence-classification class here ({sorted(STOCK_CLASSES)})"
    if config.task != "classification":
        return f"task {config.task!r}: stock audio-classification heads have no dimensional (regression) output"
    if config.pooling != "mean":
        return f"pooling {config.pooling!r}: the stock heads pool by a masked mean only"
    if config.head_hidden_size:
        return "a hidden ReLU layer (head_hidden_size) sits between pooling and classifier: the stock head is linear"
    if config.layers == "weighted" and getattr(config.backbone_config, "do_stable_layer_norm", False):
        if not _stock_last_state_normalised():
            return (
                "layers='weighted' on a stable-layer-norm backbone: the installed transformers weighs the last "
                "hidden state before the final layer norm, hf_ser after it (as transformers 4 did)"
            )
    if getattr(config, "text_config", None) is not None:
        return "a speech+text model: the stock audio-classification classes have no transcript encoder"
    if getattr(config, "adapter", None):
        return "its LoRA adapters are not merged: save it with save_pretrained() (merges by default)"
    return None


def _stock_last_state_normalised() -> bool:
    """Whether the installed transformers' ``hidden_states[-1]`` is the final-layer-norm output (transformers 4);
    transformers 5 records it before the norm (``capture_outputs(tie_last_hidden_states=False)``)."""
    import transformers

    return int(transformers.__version__.split(".")[0]) < 5


def _stock_model(ser_model):
    """The stock transformers model carrying ``ser_model``'s weights (see the module docstring)."""
    import torch
    import transformers

    config = ser_model.config
    class_name = STOCK_CLASSES[config.backbone_config.model_type]
    stock_config = config.backbone_config.__class__.from_dict(config.backbone_config.to_dict())
    stock_config.id2label = {int(i): name for i, name in config.id2label.items()}
    stock_config.label2id = {name: int(i) for i, name in config.id2label.items()}
    stock_config.num_labels = len(config.id2label)
    stock_config.classifier_proj_size = stock_config.num_labels
    stock_config.use_weighted_layer_sum = config.layers == "weighted"
    stock_config.architectures = [class_name]
    model = getattr(transformers, class_name)(stock_config).eval()
    getattr(model, model.base_model_prefix).load_state_dict(ser_model.backbone.state_dict())
    with torch.no_grad():
        model.projector.load_state_dict(ser_model.classifier.state_dict())
        model.classifier.weight.copy_(torch.eye(stock_config.num_labels))
        model.classifier.bias.zero_()
        if stock_config.use_weighted_layer_sum:
            model.layer_weights.copy_(ser_model.layer_weights)
    return model


def logit_differences(ser_model, stock_model, normalize: bool) -> dict[str, float]:
    """Largest |stock - hf_ser| logit per case of ``onnx_export.parity_inputs``, on the inputs the saved feature
    extractor gives (normalised when it normalises)."""
    import torch

    from hf_ser.onnx_export import normalize_waveforms, parity_inputs

    out = {}
    for name, (waveform, mask) in parity_inputs().items():
        values, attention = torch.from_numpy(waveform), torch.from_numpy(mask)
        if normalize:
            values = normalize_waveforms(values, attention)
        with torch.no_grad():
            expected = ser_model(input_values=values, attention_mask=attention).logits.numpy()
            actual = stock_model(input_values=values, attention_mask=attention).logits.numpy()
        out[name] = float(np.abs(actual - expected).max())
    return out


def export_transformers(model_dir: str | Path, out_dir: str | Path) -> StockExportReport:
    """Write ``model_dir`` (an hf_ser ``save_pretrained`` folder) to ``out_dir`` as a stock transformers model.

    Raises:
        StockFormRefused: the head has no exact stock form (nothing written; the message says why).
        StockExportError: the logit check failed (nothing written).
        ForeignCodeError: the folder needs code for a model type the installed hf_ser does not provide.
    """
    from transformers import AutoConfig

    import hf_ser.models  # noqa: F401  (registers SerConfig, so AutoConfig reads the folder without its code)
    from hf_ser.evaluation.inference import load_model

    reason = stock_form_refusal(AutoConfig.from_pretrained(str(model_dir)))
    if reason is not None:
        raise StockFormRefused(f"{model_dir} has no stock transformers form: {reason}")
    ser_model, extractor = load_model(model_dir)
    ser_model = ser_model.float()
    stock = _stock_model(ser_model)
    report = StockExportReport(stock.__class__.__name__)
    report.max_abs_diff = logit_differences(ser_model, stock, bool(getattr(extractor, "do_normalize", False)))
    if not report.ok:
        raise StockExportError(
            f"{model_dir}: the stock {report.class_name}'s logits differ from hf_ser's by {report.max_abs_diff} "
            f"(tolerance {report.tolerance}); nothing written"
        )
    window = getattr(ser_model.config, "inference_window_s", None)
    if window is not None:  # hf_ser's own loaders window long audio like the original
        stock.config.inference_window_s = window
    setattr(stock.config, EXPORT_CONFIG_KEY, {"from": "hf_ser", "max_abs_logit_diff": max(report.max_abs_diff.values())})
    out_dir = Path(out_dir)
    stock.save_pretrained(out_dir)
    extractor.save_pretrained(out_dir)
    return report


def pushed_model_form(model_dir: str | Path, work_dir: str | Path) -> tuple[dict[str, Path], str]:
    """The model files ``hf-ser push`` uploads at the repository root, and the model card's line saying which form.

    The stock transformers form (exported into ``work_dir``) when the head has one, so the Hub widget and plain
    ``pipeline(...)`` work without hf_ser and without remote code; else ``{}`` (push the hf_ser folder as it is)
    and the reason.
    """
    from transformers import AutoConfig

    import hf_ser.models  # noqa: F401  (registers SerConfig)

    try:
        config = AutoConfig.from_pretrained(str(model_dir))
    except (OSError, ValueError) as e:  # a model type this transformers does not know: push it as it is
        return {}, f"Pushed as saved (its config is not one transformers reads here: {type(e).__name__})."
    if config.model_type != "hf_ser":
        return {}, f"Pushed as saved: a `{config.model_type}` model, which transformers loads by itself."
    reason = stock_form_refusal(config)
    if reason is None:
        try:
            report = export_transformers(model_dir, work_dir)
        except StockExportError as e:
            reason = str(e)
        else:
            files = {p.name: p for p in sorted(Path(work_dir).iterdir()) if p.is_file()}
            return files, (
                f"Pushed as a stock transformers `{report.class_name}` (`hf-ser export transformers`; largest logit "
                f"difference from hf_ser's model {max(report.max_abs_diff.values()):.1e}): it loads in "
                "`pipeline(\"audio-classification\")` and the Hub widget without hf_ser and without remote code."
            )
    return {}, (
        f"Pushed in hf_ser's own form (loads with hf_ser installed, or with `trust_remote_code=True`): no stock "
        f"transformers form, because {reason}."
    )
