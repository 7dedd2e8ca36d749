"""SerForSequenceClassification: a wav2vec2-family encoder, truly frozen lower layers, a pooling head, outputs.

The forward drives the Hugging Face backbone's own submodules (``feature_extractor``, ``feature_projection``,
``encoder.pos_conv_embed``, ``encoder.layer_norm``, ``encoder.layers[i]``) instead of calling the backbone as a
whole, so that everything below the freezing cut runs under ``torch.no_grad()``:

    waveform -> CNN -> feature projection -> positional conv -> [layer norm] -> layers[0:k]  | cut |  layers[k:] -> pool

Below the cut autograd records nothing, so the backward pass stops at the cut instead of flowing through the
frozen layers into the (otherwise trainable) feature projection, positional conv and SpecAugment embedding. The
frozen part also runs in eval mode (no dropout): it is a fixed feature extractor, and its output could be cached.

This module is saved next to the model weights and imported by ``trust_remote_code`` loaders, so it imports
only ``torch``, ``numpy``, ``transformers`` and its sibling modules, relatively.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint
from transformers import AutoModel, PreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput
from transformers.models.wav2vec2.modeling_wav2vec2 import _compute_mask_indices
from transformers.models.whisper.modeling_whisper import WhisperEncoder

from .adapter_layers import inject_lora, merged_state_dict, resolve_adapter
from .configuration_ser import SerConfig
from .pooling import build_pooling
from .text_encoder import frozen_text_modules, text_layers
from .whisper_encoder import (
    CONV_STRIDE,
    HOP_LENGTH,
    SAMPLING_RATE,
    WHISPER_MODEL_TYPE,
    WhisperLogMel,
    max_samples,
    whisper_conv_frontend,
)

try:  # transformers >= 4.53
    from transformers.masking_utils import create_bidirectional_mask
except ImportError:  # pragma: no cover - older transformers
    create_bidirectional_mask = None
    from transformers.modeling_attn_mask_utils import _prepare_4d_attention_mask
# Where transformers can be told that the mask has padding, it skips its own `padding_mask.all()` (a device read).
_SKIP_ARG = {"allow_is_bidirectional_skip": False}
if create_bidirectional_mask is not None and "allow_is_bidirectional_skip" not in inspect.signature(create_bidirectional_mask).parameters:
    _SKIP_ARG = {}  # pragma: no cover - older transformers

logger = logging.getLogger(__name__)

# WavLM layers take the 2-D padding mask and pass a relative position bias from layer to layer.
_RELATIVE_POSITION_BIAS_MODEL_TYPES = frozenset({"wavlm"})


class _HostMask(np.ndarray):
    """A (batch, frames) 0/1 numpy mask that transformers' ``_compute_mask_indices`` reads as it reads a tensor
    mask (``attention_mask.detach().sum(-1).tolist()``): SpecAugment spans from host lengths, no device read."""

    def __new__(cls, frames: Sequence[int], length: int) -> _HostMask:
        return (np.arange(length)[None, :] < np.asarray(frames)[:, None]).astype(np.int64).view(cls)

    def detach(self) -> _HostMask:
        return self


@dataclass
class SerOutput(SequenceClassifierOutput):
    """``SequenceClassifierOutput`` plus ``dims: (batch, n_dims)`` predictions for regression / multitask.

    For task="regression", ``logits`` holds the dims predictions too, so generic code that reads ``.logits`` works.
    """

    dims: torch.FloatTensor | None = None
    text_used: torch.BoolTensor | None = None
    """Speech + text models: ``(batch,)`` True where the prediction used the clip's transcript, False where it
    used speech alone (no transcript given, or dropped by modality dropout in training)."""


def concordance_correlation_loss(predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """1 - concordance correlation coefficient (Lin 1989), averaged over dimensions.

    Rows whose targets are not all finite (a clip without dimensional labels) are left out, so one NaN never
    poisons a batch.

    Args:
        predictions: (batch, n_dims).
        targets: (batch, n_dims), NaN where unknown.

    Returns:
        Scalar loss in [0, 2]; 0 (still attached to the graph) when fewer than two rows have targets.
    """
    targets = targets.to(predictions.dtype)
    # Masked sums instead of boolean indexing, and the "fewer than two rows" rule as a torch.where: nothing here
    # reads a value on the host (no host-device sync in a training step).
    keep = torch.isfinite(targets).all(dim=-1, keepdim=True)
    weight = keep.to(predictions.dtype)
    targets = torch.where(keep, targets, torch.zeros_like(targets))
    count = weight.sum()
    rows = count.clamp(min=1.0)
    pred_mean = (predictions * weight).sum(dim=0) / rows
    target_mean = (targets * weight).sum(dim=0) / rows
    pred_dev, target_dev = predictions - pred_mean, targets - target_mean
    pred_var = (pred_dev * pred_dev * weight).sum(dim=0) / rows
    target_var = (target_dev * target_dev * weight).sum(dim=0) / rows
    covariance = (pred_dev * target_dev * weight).sum(dim=0) / rows
    # eps: a batch of identical targets has zero variance.
    ccc = 2.0 * covariance / (pred_var + target_var + (pred_mean - target_mean) ** 2 + 1e-8)
    loss = (1.0 - ccc).mean()
    return torch.where(count >= 2, loss, predictions.sum() * 0.0)


LOSSES = ("ce", "focal")


def classification_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    *,
    weight: torch.Tensor | None = None,
    label_smoothing: float = 0.0,
    loss: str = "ce",
    focal_gamma: float = 2.0,
) -> torch.Tensor:
    """Cross-entropy or focal loss against hard class ids or soft target distributions.

    ``labels`` is either ``(batch,)`` class ids (``-100`` = no target) or ``(batch, num_labels)`` target
    distributions (rows summing to 1; an all-zero row has no target). Soft targets give the cross-entropy
    against the annotators' vote distribution (EMO-SUPERB, Wu et al. 2024, "distribution labels"); focal loss
    (Lin et al. 2017) scales each class term by ``(1 - p_c) ** focal_gamma``. With per-class ``weight`` the
    loss is ``sum_i sum_c w_c q'_ic (1 - p_ic)^gamma (-log p_ic) / sum_i sum_c w_c q_ic``, where ``q'`` is ``q``
    smoothed towards uniform by ``label_smoothing``: for one-hot ``q`` and gamma 0 this is exactly
    ``torch.nn.functional.cross_entropy`` with ``weight`` and ``label_smoothing`` (mean reduction), so soft
    targets on unanimous votes and focal loss with gamma 0 both reduce to the weighted cross-entropy.
    """
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {list(LOSSES)}")
    num_labels = logits.shape[-1]
    if labels.dim() == 1 or labels.shape[-1] != num_labels:
        ids = labels.view(-1).long()
        if loss == "ce":  # the common case stays torch's own kernel
            return F.cross_entropy(logits, ids, weight=weight, label_smoothing=label_smoothing)
        targets = F.one_hot(ids.clamp(min=0), num_labels).to(logits.dtype) * (ids >= 0).unsqueeze(-1)
    else:
        targets = labels.to(logits.dtype)
    log_p = F.log_softmax(logits.float(), dim=-1).to(logits.dtype)
    w = weight.to(logits.dtype) if weight is not None else torch.ones(num_labels, dtype=logits.dtype, device=logits.device)
    has_target = targets.sum(dim=-1, keepdim=True) > 0
    smoothed = targets * (1.0 - label_smoothing) + has_target * (label_smoothing / num_labels)
    terms = -log_p
    if loss == "focal" and focal_gamma:
        terms = terms * (1.0 - log_p.exp()).clamp(min=0.0) ** focal_gamma
    denominator = (targets * w).sum()
    # No row with a target gives a zero that keeps the graph; decided by torch.where, not on the host (no sync).
    has_any = denominator > 0
    loss = (smoothed * w * terms).sum() / torch.where(has_any, denominator, torch.ones_like(denominator))
    return torch.where(has_any, loss, loss * 0.0)


def head_output(
    config,
    logits: torch.Tensor | None,
    dims_pred: torch.Tensor | None,
    labels: torch.Tensor | None,
    dims: torch.Tensor | None,
    return_dict: bool | None,
    text_used: torch.Tensor | None = None,
) -> SerOutput | tuple:
    """Losses and outputs of a SER head, the same for every model family (``text_used``: see ``SerOutput``).

    ``classification_loss`` on ``logits`` (``config.loss``: ``ce`` or ``focal`` with ``config.focal_gamma``;
    ``config.class_weights``, ``config.label_smoothing``; ``labels`` as class ids or as soft target
    distributions); CCC loss on ``dims_pred``; multitask adds ``config.regression_loss_weight`` times the CCC
    loss. For a regression-only head, ``logits`` carries the dims predictions so code that reads ``.logits``
    works.

    Args:
        logits: (batch, num_labels) or None (regression only).
        dims_pred: (batch, n_dims) or None (classification only).
        labels: (batch,) class ids or (batch, num_labels) target distributions.
    """
    loss = None
    if labels is not None and logits is not None:
        weight = None
        if config.class_weights is not None:
            # Built on the host and copied without blocking (a blocking copy would wait for the device every step).
            weight = torch.tensor(config.class_weights, dtype=logits.dtype).to(logits.device, non_blocking=True)
        loss = classification_loss(
            logits,
            labels,
            weight=weight,
            label_smoothing=config.label_smoothing,
            # Configs saved before these options existed train and load as plain cross-entropy.
            loss=getattr(config, "loss", "ce"),
            focal_gamma=getattr(config, "focal_gamma", 2.0),
        )
    if dims is not None and dims_pred is not None:
        dims_loss = concordance_correlation_loss(dims_pred, dims)
        weighted = dims_loss if logits is None else config.regression_loss_weight * dims_loss
        loss = weighted if loss is None else loss + weighted
    output = SerOutput(loss=loss, logits=logits if logits is not None else dims_pred, dims=dims_pred, text_used=text_used)
    return output.to_tuple() if return_dict is False else output


class SerForSequenceClassification(PreTrainedModel):
    """Speech emotion recognition model: backbone -> layer selection -> pooling -> classification / regression.

    Args:
        config: a ``SerConfig`` (its ``backbone_config`` builds the encoder with random weights; ``build_model``
            then loads pretrained weights, ``from_pretrained`` loads saved ones).
    """

    config_class = SerConfig
    base_model_prefix = "backbone"
    main_input_name = "input_values"
    _supports_sdpa = True
    # Our own option (config.gradient_checkpointing) checkpoints only the trainable layers; transformers' own
    # version, which that config key would switch on for a model that supports it, stays off.
    supports_gradient_checkpointing = False
    # Set by the ONNX export and by training under train.compile: attention masks are always built, from shapes
    # only, so that no "is anything padded?" branch is frozen into the graph (ONNX) or breaks it (dynamo).
    _static_masks = False

    def __init__(self, config: SerConfig) -> None:
        super().__init__(config)
        if config.backbone_config is None:
            raise ValueError("SerConfig.backbone_config is required")
        config.check()
        if getattr(config.backbone_config, "add_adapter", False):
            raise ValueError("backbones with add_adapter=True are not supported")
        self.log_mel = None
        if self._is_whisper:
            self.backbone = WhisperEncoder(config.backbone_config)
            self.log_mel = WhisperLogMel(
                config.backbone_config.num_mel_bins, max_frames=2 * config.backbone_config.max_source_positions
            )
        else:
            self.backbone = AutoModel.from_config(config.backbone_config)
        if getattr(config.backbone_config, "gradient_checkpointing", False):
            # A legacy key from an old backbone config.json; our config.gradient_checkpointing replaces it.
            logger.warning("backbone config carries gradient_checkpointing=true; ignored")
            self.backbone.gradient_checkpointing_disable()
        hidden_size = config.backbone_config.hidden_size
        num_layers = config.backbone_config.num_hidden_layers
        if isinstance(config.layers, int) and config.layers != num_layers:
            raise ValueError(
                f"layers={config.layers} but the backbone has {num_layers} layers; build with build_model, "
                "which keeps only the bottom `layers` layers"
            )
        self.layer_weights = nn.Parameter(torch.zeros(num_layers + 1)) if config.layers == "weighted" else None
        self.pooling = build_pooling(config.pooling, hidden_size, **config.pooling_kwargs)
        self.dropout = nn.Dropout(config.dropout)
        width = self.pooling.output_size
        width += self._build_text_side(config, hidden_size)
        self.projector = None
        if config.head_hidden_size:
            self.projector = nn.Sequential(
                nn.Linear(width, config.head_hidden_size), nn.ReLU(), nn.Dropout(config.dropout)
            )
            width = config.head_hidden_size
        has_classes = config.task in ("classification", "multitask")
        has_dims = config.task in ("regression", "multitask")
        self.classifier = nn.Linear(width, config.num_labels) if has_classes else None
        self.regressor = nn.Linear(width, len(config.dims)) if has_dims else None
        self.post_init()
        if config.adapter:  # settings given to build_model, or a model saved with unmerged adapters
            self._inject_adapter(config.adapter)
        if config.text_adapter:
            self._inject_text_adapter(config.text_adapter)
        self._apply_freezing()

    def _build_text_side(self, config: SerConfig, hidden_size: int) -> int:
        """The transcript encoder and its fusion layers (speech + text models); returns the width it adds to the
        pooled vector (late fusion: the text embedding; cross-attention: none, the frames carry it)."""
        self.text_encoder = self.text_missing = self.text_attention = self.text_norm = None
        if config.text_config is None:
            return 0
        self.text_encoder = AutoModel.from_config(config.text_config)
        if hasattr(self.text_encoder, "pooler"):  # BERT-style pooler: never used here (and unused under DDP)
            self.text_encoder.pooler = None
        text_size = config.text_config.hidden_size
        # Stands in for the transcript when there is none or modality dropout removed it.
        self.text_missing = nn.Parameter(torch.zeros(text_size))
        if config.fusion == "late":
            return text_size
        heads = getattr(self.config.backbone_config, "num_attention_heads", None) or getattr(
            self.config.backbone_config, "encoder_attention_heads", 1
        )
        self.text_attention = nn.MultiheadAttention(
            hidden_size, heads, kdim=text_size, vdim=text_size, batch_first=True, dropout=config.dropout
        )
        self.text_norm = nn.LayerNorm(hidden_size)
        return 0

    # ----------------------------------------------------------------------------------------------- adapters
    def attach_adapter(self, adapter: dict) -> None:
        """Add LoRA adapters to the backbone (``adapter_layers.resolve_adapter`` lists the settings); afterwards
        only the adapters and the head train.

        Raises:
            ValueError: the model already has adapters, or the settings are invalid (the message names the key).
        """
        if self.config.adapter:
            raise ValueError("the model already carries adapters")
        self._inject_adapter(adapter)
        self._apply_freezing()

    def _inject_adapter(self, adapter: dict) -> None:
        resolved = resolve_adapter(
            dict(adapter),
            model_type=self.config.backbone_config.model_type,
            depth=len(self._encoder.layers),
            num_frozen_layers=self.config.num_frozen_layers,
        )
        inject_lora(self.backbone, self._encoder.layers, resolved)
        self.config.adapter = resolved

    def _inject_text_adapter(self, adapter: dict) -> None:
        """LoRA on the text encoder's layers above ``text_num_frozen_layers`` (all of them when it is None); its
        base stays frozen."""
        if self.text_encoder is None:
            raise ValueError("text_adapter needs a text encoder (text_config)")
        _, layers = text_layers(self.text_encoder)
        resolved = resolve_adapter(
            dict(adapter),
            model_type=self.config.text_config.model_type,
            depth=len(layers),
            num_frozen_layers=self._text_cut,
            text=True,
        )
        inject_lora(self.text_encoder, layers, resolved, what="text encoder")
        self.config.text_adapter = resolved

    # The adapter settings of each encoder, and where a saved (merged) config records them.
    _MERGED_KEYS = {"adapter": "merged_adapter", "text_adapter": "merged_text_adapter"}

    def save_pretrained(self, save_directory, *args, merge_adapter: bool = True, **kwargs):
        """``PreTrainedModel.save_pretrained``; with adapters (on either encoder), the saved weights have them merged
        (a plain model for ``pipeline`` and export; the config records them under ``merged_adapter`` /
        ``merged_text_adapter``) unless ``merge_adapter=False`` (for continued training)."""
        adapters = {key: getattr(self.config, key, None) for key in self._MERGED_KEYS}
        if not any(adapters.values()) or not merge_adapter or kwargs.get("state_dict") is not None:
            return super().save_pretrained(save_directory, *args, **kwargs)
        state_dict = merged_state_dict(self)
        for key, adapter in adapters.items():
            setattr(self.config, key, None)
            if adapter:
                setattr(self.config, self._MERGED_KEYS[key], adapter)
        try:
            return super().save_pretrained(save_directory, *args, state_dict=state_dict, **kwargs)
        finally:
            for key, adapter in adapters.items():
                setattr(self.config, key, adapter)
                if adapter:
                    delattr(self.config, self._MERGED_KEYS[key])

    # ----------------------------------------------------------------------------------------------- freezing
    @property
    def _is_whisper(self) -> bool:
        return self.config.backbone_config.model_type == WHISPER_MODEL_TYPE

    @property
    def _encoder(self) -> nn.Module:
        """The module holding ``layers`` and the final ``layer_norm`` (the Whisper encoder is the backbone)."""
        return self.backbone if self._is_whisper else self.backbone.encoder

    @property
    def _is_stable_layer_norm(self) -> bool:
        # Whisper is pre-norm with a final layer norm, as wav2vec2's "stable layer norm" variant.
        return self._is_whisper or bool(getattr(self.backbone.config, "do_stable_layer_norm", False))

    @property
    def _spec_augment_enabled(self) -> bool:
        if self._is_whisper:  # Whisper's SpecAugment works on log-mel input in WhisperModel, not in the encoder
            return False
        cfg = self.backbone.config
        return getattr(cfg, "apply_spec_augment", True) and (
            getattr(cfg, "mask_time_prob", 0.0) > 0 or getattr(cfg, "mask_feature_prob", 0.0) > 0
        )

    def _frozen_modules(self) -> list[nn.Module]:
        """The backbone submodules below the cut (run under no_grad, in eval mode)."""
        if self._is_whisper:
            return self._whisper_frozen_modules()
        backbone, encoder = self.backbone, self.backbone.encoder
        frozen: list[nn.Module] = []
        if self.config.freeze_feature_encoder:
            frozen.append(backbone.feature_extractor)
        if self.config.num_frozen_layers > 0:
            frozen += [backbone.feature_projection, encoder.pos_conv_embed, encoder.dropout]
            if not self._is_stable_layer_norm:  # post-norm models normalise before the first layer
                frozen.append(encoder.layer_norm)
            frozen += list(encoder.layers[: self.config.num_frozen_layers])
            if self.config.num_frozen_layers == len(encoder.layers) and self._is_stable_layer_norm:
                frozen.append(encoder.layer_norm)
        return frozen

    def _whisper_frozen_modules(self) -> list[nn.Module]:
        encoder = self.backbone
        frozen: list[nn.Module] = [encoder.conv1, encoder.conv2] if self.config.freeze_feature_encoder else []
        if self.config.num_frozen_layers > 0:
            frozen += list(encoder.layers[: self.config.num_frozen_layers])
            if self.config.num_frozen_layers == len(encoder.layers):
                frozen.append(encoder.layer_norm)
        return frozen

    def _apply_freezing(self) -> None:
        # With adapters an encoder's base stays frozen: only its LoRA matrices (and the head) train.
        adapted = [self.backbone] if self.config.adapter else []
        if self.text_encoder is not None and self.config.text_adapter:
            adapted.append(self.text_encoder)
        for encoder in adapted:
            for name, param in encoder.named_parameters():
                param.requires_grad = ".lora_" in name
        for module in self._frozen_modules() + self._frozen_text_modules():
            for param in module.parameters():
                param.requires_grad = False
        if self._is_whisper:
            # Whisper's sinusoidal positional table is never trained (as in transformers' WhisperEncoder).
            self.backbone.embed_positions.requires_grad_(False)
        elif self.config.freeze_feature_encoder:
            self.backbone.feature_extractor._freeze_parameters()
        # A trainable parameter that the forward never uses makes DDP fail ("unused parameters"), so freeze the
        # SpecAugment embedding when masking is off.
        masked_spec_embed = getattr(self.backbone, "masked_spec_embed", None)
        if masked_spec_embed is not None and not self._spec_augment_enabled:
            masked_spec_embed.requires_grad = False
        self.train(self.training)

    @classmethod
    def from_pretrained(cls, *args, **kwargs):
        model = super().from_pretrained(*args, **kwargs)
        # Loading swaps in new Parameter objects (requires_grad=True), so freezing is applied again.
        if isinstance(model, tuple):  # output_loading_info=True
            model[0]._apply_freezing()
        else:
            model._apply_freezing()
        return model

    def train(self, mode: bool = True) -> SerForSequenceClassification:
        super().train(mode)
        # The frozen part is a fixed feature extractor: dropout there would only add noise to fixed features.
        for module in (self._frozen_modules() + self._frozen_text_modules()) if hasattr(self, "backbone") else ():
            module.eval()
        return self

    @property
    def _text_cut(self) -> int | None:
        """Frozen text layers: ``text_num_frozen_layers``; None (all of it) unless LoRA adapts it (then 0: its
        embeddings, the layers adapt)."""
        cut = self.config.text_num_frozen_layers
        return 0 if cut is None and self.config.text_adapter else cut

    def _frozen_text_modules(self) -> list[nn.Module]:
        """The text encoder's parts that never train and run in eval mode (``text_num_frozen_layers``; all of it
        by default)."""
        if getattr(self, "text_encoder", None) is None:
            return []
        return frozen_text_modules(self.text_encoder, self._text_cut)

    # ------------------------------------------------------------------------------------------------ encoder
    def _positional_embedding(self, hidden_states: torch.Tensor, frame_mask: torch.Tensor) -> torch.Tensor:
        """Positional conv embedding. hidden_states: (batch, frames, hidden) with padding zeroed."""
        pos_conv = self.backbone.encoder.pos_conv_embed
        if not hasattr(pos_conv, "layers"):
            return pos_conv(hidden_states)
        # data2vec-audio stacks several convs: re-zero padding between them, else the second conv reads
        # non-zero padding and the frames next to it depend on how much padding the batch has.
        keep = frame_mask.unsqueeze(1)
        values = hidden_states.transpose(1, 2)
        for layer in pos_conv.layers:
            values = layer(values).masked_fill(~keep, 0.0)
        return values.transpose(1, 2)

    def frame_lengths(self, input_lengths: Sequence[int]) -> list[int]:
        """Real frames per clip for real samples per clip, in host arithmetic (no tensor is read).

        The same numbers as the frame mask the forward builds on the device (transformers'
        ``_get_feat_extract_output_lengths`` for the CNN, ``whisper_encoder`` for Whisper).
        """
        cfg = self.config.backbone_config
        if self._is_whisper:
            limit = max_samples(cfg)
            return [-(-(min(int(n), limit) // HOP_LENGTH) // CONV_STRIDE) for n in input_lengths]
        frames = [int(n) for n in input_lengths]
        for kernel, stride in zip(cfg.conv_kernel, cfg.conv_stride):
            frames = [(n - int(kernel)) // int(stride) + 1 for n in frames]
        return frames

    def _host_frames(
        self, input_lengths: Sequence[int] | None, attention_mask: torch.Tensor | None, batch: int, frames: int
    ) -> list[int] | None:
        """Real frames per row known on the host: from ``input_lengths``, or all ``frames`` without a mask; None
        when only the device mask knows (callers that pass no lengths: a pipeline, ``hf-ser predict``)."""
        if attention_mask is None:
            return [frames] * batch
        if input_lengths is None:
            return None
        return [min(f, frames) for f in self.frame_lengths(input_lengths)]

    def _layer_attention_mask(
        self, hidden_states: torch.Tensor, frame_mask: torch.Tensor, frames: list[int] | None = None
    ) -> torch.Tensor | None:
        """The mask each encoder layer expects, or None when no frame is padding.

        ``frames``: real frames per row on the host (``_host_frames``). With them the choice needs no read of
        device memory; without them ``frame_mask`` is read (one host-device sync, and a graph break under
        ``torch.compile``).
        """
        cfg = self.backbone.config
        if cfg.model_type in _RELATIVE_POSITION_BIAS_MODEL_TYPES and self._static_masks:
            return frame_mask.long()
        if self._static_masks:  # additive (batch, 1, frames, frames), as eager attention adds it to the scores
            blocked = ~frame_mask[:, None, None, :]
            additive = torch.zeros(blocked.shape, dtype=hidden_states.dtype, device=hidden_states.device)
            additive = additive.masked_fill(blocked, torch.finfo(hidden_states.dtype).min)
            return additive.expand(-1, -1, hidden_states.shape[1], -1)
        padded = not bool(frame_mask.all()) if frames is None else any(f < hidden_states.shape[1] for f in frames)
        if not padded:
            return None  # SDPA's fastest kernels take no mask
        if cfg.model_type in _RELATIVE_POSITION_BIAS_MODEL_TYPES:
            return frame_mask.long()
        if create_bidirectional_mask is not None:
            # Padding is known to be there: transformers' own "is anything padded?" check (a device read) is skipped.
            return create_bidirectional_mask(config=cfg, inputs_embeds=hidden_states, attention_mask=frame_mask, **_SKIP_ARG)
        return _prepare_4d_attention_mask(frame_mask.long(), hidden_states.dtype)  # pragma: no cover

    def _run_layer(self, index: int, hidden_states, attention_mask, position_bias):
        layer = self._encoder.layers[index]
        if self.backbone.config.model_type in _RELATIVE_POSITION_BIAS_MODEL_TYPES:
            outputs = layer(hidden_states, attention_mask=attention_mask, position_bias=position_bias, index=index)
            return outputs[0], outputs[1]
        outputs = layer(hidden_states, attention_mask=attention_mask)
        return (outputs[0] if isinstance(outputs, tuple) else outputs), None

    def encode(
        self,
        input_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        input_lengths: Sequence[int] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Frame features that feed the pooling head.

        Args:
            input_values: (batch, samples) float waveform, 16 kHz.
            attention_mask: (batch, samples), 1 on real samples; None: no padding.
            input_lengths: real samples per row as host integers (as ``forward``).

        Returns:
            features: (batch, frames, hidden), the selected layer (or weighted sum of layers).
            frame_mask: (batch, frames) bool, True on real frames.
        """
        hidden, frame_mask, frames, hidden_states, position_bias = self._encode_below_cut(
            input_values, attention_mask, input_lengths
        )
        return self._encode_above_cut(hidden, frame_mask, hidden_states, position_bias, frames), frame_mask

    def _encode_below_cut(
        self, input_values: torch.Tensor, attention_mask: torch.Tensor | None, input_lengths: Sequence[int] | None
    ) -> tuple[torch.Tensor, torch.Tensor, list[int] | None, list[torch.Tensor] | None, torch.Tensor | None]:
        """CNN -> projection -> positional conv -> layers[0:cut]: the hidden states at the cut.

        Returns:
            hidden: (batch, frames, hidden), the input of layer ``cut`` (no graph when ``cut > 0``).
            frame_mask: (batch, frames) bool, True on real frames.
            frames: real frames per row on the host (``_host_frames``), or None.
            hidden_states: the states below the cut for layers="weighted", else None.
            position_bias: WavLM's relative position bias from the layers below the cut, else None.
        """
        cut = self.config.num_frozen_layers
        collect = self.layer_weights is not None
        if self._is_whisper:
            hidden, frame_mask = self._whisper_embed(input_values, attention_mask)
            frames = self._host_frames(input_lengths, attention_mask, *hidden.shape[:2])
        else:
            hidden, frame_mask, frames = self._wav2vec2_embed(input_values, attention_mask, input_lengths)
        layer_mask = self._layer_attention_mask(hidden, frame_mask, frames) if cut > 0 else None

        hidden_states = [hidden] if collect else None
        position_bias = None
        for index in range(cut):
            with torch.no_grad():
                hidden, position_bias = self._run_layer(index, hidden, layer_mask, position_bias)
            if collect:
                hidden_states.append(hidden)
        return hidden, frame_mask, frames, hidden_states, position_bias

    def _wav2vec2_embed(
        self, input_values: torch.Tensor, attention_mask: torch.Tensor | None, input_lengths: Sequence[int] | None
    ) -> tuple[torch.Tensor, torch.Tensor, list[int] | None]:
        """CNN -> projection -> [SpecAugment] -> positional conv -> [layer norm]: the input of layer 0.

        Returns:
            hidden: (batch, frames, hidden), no graph when ``num_frozen_layers > 0``.
            frame_mask: (batch, frames) bool, True on real frames.
            frames: real frames per row on the host (``_host_frames``), or None.
        """
        cfg = self.config
        backbone, encoder = self.backbone, self.backbone.encoder
        cut = cfg.num_frozen_layers
        below_cut = torch.no_grad if cut > 0 else contextlib.nullcontext

        with torch.no_grad() if cfg.freeze_feature_encoder else contextlib.nullcontext():
            extracted = backbone.feature_extractor(input_values).transpose(1, 2)  # (batch, frames, conv_dim)
        if attention_mask is None:
            frame_mask = torch.ones(extracted.shape[:2], dtype=torch.bool, device=extracted.device)
        else:
            frame_mask = backbone._get_feature_vector_attention_mask(extracted.shape[1], attention_mask)
        frames = self._host_frames(input_lengths, attention_mask, *extracted.shape[:2])

        with below_cut():
            projected = backbone.feature_projection(extracted)
            hidden = projected[0] if isinstance(projected, tuple) else projected
            if cut == 0 and self.training and self._spec_augment_enabled:
                hidden = self._spec_augment(hidden, frame_mask, frames)
            hidden = hidden.masked_fill(~frame_mask.unsqueeze(-1), 0.0)
            hidden = hidden + self._positional_embedding(hidden, frame_mask)
            if not self._is_stable_layer_norm:
                hidden = encoder.layer_norm(hidden)
            hidden = encoder.dropout(hidden)
        return hidden, frame_mask, frames

    def _spec_augment(self, hidden: torch.Tensor, frame_mask: torch.Tensor, frames: list[int] | None) -> torch.Tensor:
        """transformers' SpecAugment (``_mask_hidden_states``: time spans replaced by the learned mask embedding,
        feature channels zeroed) with the same spans for the same numpy random state, applied without a host read.

        transformers reads each clip's frame count from the device mask (``.tolist()``), uploads the span mask
        with a blocking copy and writes it by boolean indexing (a ``nonzero``): three host-device syncs per
        step. With ``frames`` known on the host the spans are drawn from them, the mask is copied without
        blocking and applied with ``torch.where``. Without ``frames``, transformers' own code runs.
        """
        cfg = self.backbone.config
        if frames is None or not getattr(cfg, "apply_spec_augment", True):
            return self.backbone._mask_hidden_states(hidden, attention_mask=frame_mask)
        batch, length, width = hidden.shape
        if cfg.mask_time_prob > 0:
            # _compute_mask_indices reads a clip's length as attention_mask.detach().sum(-1).tolist(): a host
            # (numpy) mask gives it the same lengths without touching the device.
            spans = _compute_mask_indices(
                (batch, length), mask_prob=cfg.mask_time_prob, mask_length=cfg.mask_time_length,
                attention_mask=_HostMask(frames, length), min_masks=cfg.mask_time_min_masks,
            )
            spans = torch.from_numpy(spans).to(hidden.device, non_blocking=True)
            hidden = torch.where(spans.unsqueeze(-1), self.backbone.masked_spec_embed.to(hidden.dtype), hidden)
        if cfg.mask_feature_prob > 0:
            channels = _compute_mask_indices(
                (batch, width), mask_prob=cfg.mask_feature_prob, mask_length=cfg.mask_feature_length,
                min_masks=cfg.mask_feature_min_masks,
            )
            channels = torch.from_numpy(channels).to(hidden.device, non_blocking=True)
            hidden = hidden.masked_fill(channels.unsqueeze(1), 0.0)
        return hidden

    def _whisper_embed(
        self, input_values: torch.Tensor, attention_mask: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-mel -> two GELU convs -> truncated positional embeddings: the input of layer 0 (whisper_encoder.py).

        Returns:
            hidden: (batch, frames, d_model), no graph when ``num_frozen_layers > 0``.
            frame_mask: (batch, frames) bool, True on real frames.
        """
        encoder, cut = self.backbone, self.config.num_frozen_layers
        limit = max_samples(encoder.config)
        if input_values.shape[1] > limit:
            logger.warning("clip longer than %.0f s: Whisper encodes its first %.0f s", limit / SAMPLING_RATE, limit / SAMPLING_RATE)
            input_values = input_values[:, :limit]
            attention_mask = None if attention_mask is None else attention_mask[:, :limit]
        if attention_mask is None:
            attention_mask = torch.ones_like(input_values, dtype=torch.long)
        with torch.no_grad():  # no parameters: never part of the graph
            features, mel_lengths = self.log_mel(input_values, attention_mask)
        with torch.no_grad() if self.config.freeze_feature_encoder else contextlib.nullcontext():
            hidden, frame_mask = whisper_conv_frontend(encoder, features, mel_lengths)
        with torch.no_grad() if cut > 0 else contextlib.nullcontext():
            hidden = hidden + encoder.embed_positions.weight[: hidden.shape[1]]
            hidden = F.dropout(hidden, p=encoder.dropout, training=self.training and cut == 0)
        return hidden, frame_mask

    def _encode_above_cut(
        self,
        hidden: torch.Tensor,
        frame_mask: torch.Tensor,
        hidden_states: list[torch.Tensor] | None,
        position_bias: torch.Tensor | None,
        frames: list[int] | None = None,
    ) -> torch.Tensor:
        """SpecAugment at the cut, layers[cut:], final layer norm, layer selection. Returns (batch, frames, hidden).

        ``frames``: real frames per row on the host, or None (see ``_layer_attention_mask``).
        """
        encoder = self._encoder
        cut = self.config.num_frozen_layers
        num_layers = len(encoder.layers)
        collect = hidden_states is not None
        layer_mask = self._layer_attention_mask(hidden, frame_mask, frames)
        if cut > 0 and self.training and self._spec_augment_enabled:
            # SpecAugment at the cut, not after the CNN: masking below the cut would need the mask embedding's
            # gradient to flow back through the frozen layers (the graph we avoid), and it would make the
            # frozen part's output random, so it could no longer be cached.
            hidden = self._spec_augment(hidden.clone(), frame_mask, frames)
        for index in range(cut, num_layers):
            hidden, position_bias = self._run_trainable_layer(index, hidden, layer_mask, position_bias)
            if collect:
                hidden_states.append(hidden)

        if self._is_stable_layer_norm:
            # No no_grad needed even when it is frozen: autograd records nothing unless SpecAugment at the cut
            # (cut == depth) made `hidden` require grad.
            hidden = encoder.layer_norm(hidden)
            if collect:  # as transformers' hidden_states: the last entry is normalised
                hidden_states[-1] = hidden

        if collect:
            weights = torch.softmax(self.layer_weights, dim=0)
            stacked = torch.stack(hidden_states, dim=0)  # (layers + 1, batch, frames, hidden)
            hidden = (stacked * weights.view(-1, 1, 1, 1)).sum(dim=0)
        return hidden

    # ------------------------------------------------------------------------------- frozen-output caching
    def frozen_output_cacheable(self) -> str | None:
        """Why the output at the cut cannot be cached across epochs, or None when it can.

        The output at the cut is a pure function of the waveform when there is a cut, the frozen part runs in
        eval mode (always, see ``train``), and nothing below the cut is passed on besides the hidden states. A
        speech + text model's transcripts go past the cache to the head (``forward_from_frozen``); its text
        encoder's output is cached too when ``text_output_cacheable`` allows.
        """
        if self.config.num_frozen_layers <= 0:
            return "no frozen layers (num_frozen_layers=0)"
        if not self.config.freeze_feature_encoder:
            return "the feature encoder trains"
        if self.layer_weights is not None:
            return "layers='weighted' needs every hidden state below the cut"
        if self.backbone.config.model_type in _RELATIVE_POSITION_BIAS_MODEL_TYPES:
            return f"{self.backbone.config.model_type} passes a position bias across the cut"
        return None

    def text_output_cacheable(self) -> str | None:
        """Why the text encoder's output cannot be cached across epochs, or None when it can: it is then a pure
        function of the tokens (the whole encoder frozen, in eval mode, without adapters). Modality dropout acts
        after the encoder, so it stays random per step."""
        if self.text_encoder is None:
            return "no text encoder"
        if self.config.text_adapter:
            return "the text encoder's LoRA adapters train"
        if self.config.text_num_frozen_layers is not None:
            return f"the text encoder's layers above text_num_frozen_layers={self.config.text_num_frozen_layers} train"
        return None

    def encode_text(self, text_input_ids: torch.Tensor, text_attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """The text encoder's last hidden state ``(batch, tokens, text_hidden)`` (padding tokens not meaningful),
        without autograd when nothing in it trains (``text_output_cacheable``).

        Args:
            text_input_ids: (batch, tokens) token ids.
            text_attention_mask: (batch, tokens), 1 on real tokens; None: the non-zero ids.
        """
        mask = text_attention_mask if text_attention_mask is not None else text_input_ids.ne(0)
        # A fully frozen encoder records no graph; with trainable layers or LoRA the gradients must flow.
        with torch.no_grad() if self.text_output_cacheable() is None else contextlib.nullcontext():
            return self.text_encoder(input_ids=text_input_ids, attention_mask=mask.long()).last_hidden_state

    @torch.no_grad()
    def frozen_features(
        self,
        input_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        input_lengths: Sequence[int] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The frozen part's output: the input of the first trainable layer, without autograd.

        Args:
            input_values: (batch, samples) float waveform, 16 kHz (normalised).
            attention_mask: (batch, samples), 1 on real samples; None: no padding.
            input_lengths: real samples per row as host integers (as ``forward``).

        Returns:
            hidden: (batch, frames, hidden) at the cut (padding frames are not meaningful).
            frame_mask: (batch, frames) bool, True on real frames.

        Raises:
            ValueError: the model's cut output is not cacheable (see ``frozen_output_cacheable``).
        """
        reason = self.frozen_output_cacheable()
        if reason is not None:
            raise ValueError(f"frozen features are not available: {reason}")
        hidden, frame_mask, _, _, _ = self._encode_below_cut(input_values, attention_mask, input_lengths)
        return hidden, frame_mask

    def forward_from_frozen(
        self,
        hidden: torch.Tensor,
        frame_mask: torch.Tensor,
        labels: torch.Tensor | None = None,
        dims: torch.Tensor | None = None,
        return_dict: bool | None = None,
        frame_lengths: Sequence[int] | None = None,
        text_input_ids: torch.Tensor | None = None,
        text_attention_mask: torch.Tensor | None = None,
        text_hidden: torch.Tensor | None = None,
    ) -> SerOutput | tuple:
        """``forward`` from the frozen part's output (``frozen_features``, e.g. read from a cache).

        Args:
            hidden: (batch, frames, hidden) at the cut.
            frame_mask: (batch, frames) bool, True on real frames.
            labels, dims, return_dict: as in ``forward``.
            frame_lengths: real frames per row as host integers (the rows' lengths before padding); None:
                read from ``frame_mask`` (a host-device sync).
            text_input_ids, text_attention_mask: as in ``forward`` (speech + text models).
            text_hidden: the text encoder's output for ``text_input_ids`` (``encode_text``, e.g. read from a
                cache), ``(batch, tokens, text_hidden)``; None: the encoder runs.

        Returns:
            As ``forward``.
        """
        reason = self.frozen_output_cacheable()
        if reason is not None:
            raise ValueError(f"cannot run from frozen features: {reason}")
        frames = None if frame_lengths is None else [int(f) for f in frame_lengths]
        features = self._encode_above_cut(hidden, frame_mask, None, None, frames)
        return self._head(features, frame_mask, labels, dims, return_dict, text_input_ids, text_attention_mask, text_hidden)

    def _run_trainable_layer(self, index: int, hidden, layer_mask, position_bias):
        layerdrop = getattr(self.backbone.config, "layerdrop", 0.0)
        # Layer 0 always runs: WavLM computes its relative position bias there.
        if self.training and index > 0 and layerdrop > 0 and float(torch.rand([])) < layerdrop:
            return hidden, position_bias
        if self.config.gradient_checkpointing and self.training and torch.is_grad_enabled():
            return checkpoint(self._run_layer, index, hidden, layer_mask, position_bias, use_reentrant=False)
        return self._run_layer(index, hidden, layer_mask, position_bias)

    # ------------------------------------------------------------------------------------------------ forward
    def forward(
        self,
        input_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        dims: torch.Tensor | None = None,
        return_dict: bool | None = None,
        input_lengths: Sequence[int] | None = None,
        text_input_ids: torch.Tensor | None = None,
        text_attention_mask: torch.Tensor | None = None,
        **kwargs,
    ) -> SerOutput | tuple:
        """Classify (and/or regress) a batch of waveforms.

        Args:
            input_values: (batch, samples) float waveform, 16 kHz (normalised by the feature extractor).
            attention_mask: (batch, samples), 1 on real samples, 0 on padding.
            labels: (batch,) int class ids, or (batch, num_labels) soft target distributions (task
                "classification" / "multitask").
            dims: (batch, n_dims) float targets in ``config.dims`` order (task "regression" / "multitask").
            return_dict: False returns a tuple.
            input_lengths: real samples per row as host integers (the training ``Collator`` gives them). With
                them the forward reads no device memory on the host (attention masks, SpecAugment spans);
                without them (a pipeline, ``hf-ser predict``) it reads ``attention_mask`` once or twice.
            text_input_ids: (batch, tokens) transcript token ids (speech + text models; the ``Collator`` pads
                them). None, or a row whose ``text_attention_mask`` is all 0: that clip is predicted from speech
                alone (the learned "missing text" embedding stands in).
            text_attention_mask: (batch, tokens), 1 on real tokens.

        Returns:
            ``SerOutput`` with ``loss`` (when targets are given), ``logits: (batch, num_labels)`` and
            ``dims: (batch, n_dims)`` (regression / multitask) and, for speech + text models, ``text_used``.
        """
        features, frame_mask = self.encode(input_values, attention_mask, input_lengths)
        return self._head(features, frame_mask, labels, dims, return_dict, text_input_ids, text_attention_mask)

    def _text_tokens(
        self,
        batch: int,
        text_input_ids: torch.Tensor | None,
        text_attention_mask: torch.Tensor | None,
        like: torch.Tensor,
        text_hidden: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(tokens (batch, T, text_hidden), token mask (batch, T) bool, used (batch,) bool)``: the encoded
        transcripts (``text_hidden`` when given, else ``encode_text``), with the "missing text" embedding (one
        token) where a clip has none or modality dropout removed it. Decided on the device (no host read)."""
        missing = self.text_missing.to(like.dtype)
        if text_input_ids is None:
            used = torch.zeros(batch, dtype=torch.bool, device=like.device)
            return missing.view(1, 1, -1).expand(batch, 1, -1), torch.ones(batch, 1, dtype=torch.bool, device=like.device), used
        mask = (text_attention_mask if text_attention_mask is not None else text_input_ids.ne(0)).bool()
        used = mask.any(dim=1)
        if self.training and self.config.modality_dropout > 0:
            used = used & (torch.rand(batch, device=like.device) >= self.config.modality_dropout)
        tokens = self.encode_text(text_input_ids, mask) if text_hidden is None else text_hidden
        tokens = torch.where(used[:, None, None], tokens.to(like.dtype), missing.view(1, 1, -1))
        first = torch.zeros_like(mask)
        first[:, 0] = True
        return tokens, torch.where(used[:, None], mask, first), used

    def _fuse(self, features, frame_mask, text_input_ids, text_attention_mask, text_hidden=None):
        """Speech + text: ``(features, text vector or None, used)``; cross-attention rewrites the frames, late
        fusion gives the masked mean of the text tokens to concatenate after pooling."""
        tokens, token_mask, used = self._text_tokens(
            features.shape[0], text_input_ids, text_attention_mask, features, text_hidden
        )
        if self.text_attention is not None:
            attended, _ = self.text_attention(features, tokens, tokens, key_padding_mask=~token_mask, need_weights=False)
            return self.text_norm(features + attended), None, used
        weights = token_mask.to(tokens.dtype).unsqueeze(-1)
        return features, (tokens * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0), used

    def _head(
        self, features, frame_mask, labels, dims, return_dict, text_input_ids=None, text_attention_mask=None, text_hidden=None
    ) -> SerOutput | tuple:
        """(Fusion with the transcript,) pooling, outputs and losses over ``features: (batch, frames, hidden)``."""
        text_vector = used = None
        if self.text_encoder is not None:
            features, text_vector, used = self._fuse(features, frame_mask, text_input_ids, text_attention_mask, text_hidden)
        pooled = self.pooling(features, frame_mask)
        if text_vector is not None:
            pooled = torch.cat([pooled, text_vector.to(pooled.dtype)], dim=-1)
        pooled = self.dropout(pooled)
        if self.projector is not None:
            pooled = self.projector(pooled)
        logits = self.classifier(pooled) if self.classifier is not None else None
        dims_pred = self.regressor(pooled) if self.regressor is not None else None

        return head_output(self.config, logits, dims_pred, labels, dims, return_dict, text_used=used)
