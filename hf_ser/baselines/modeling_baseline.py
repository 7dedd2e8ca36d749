"""BaselineForSequenceClassification: a baseline encoder plus the same heads and losses as the main model.

Same forward signature and output as ``hf_ser.models.SerForSequenceClassification`` (``SerOutput`` with
``loss``, ``logits``, ``dims``), so the trainer, ``accelerator.prepare``, ``save_pretrained`` and
``type(model).from_pretrained(dir)`` treat both alike. Features are computed inside ``forward`` from the
normalised 16 kHz waveform the collator gives, so the data path is unchanged.

Loss: cross-entropy (class weights, label smoothing) on labels >= 0; (1 - CCC) on the rows whose dims are all
finite (rows with a NaN target, e.g. a corpus without dimensional labels, are left out of the regression loss);
multitask = cross-entropy + ``regression_loss_weight`` x (1 - CCC).
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import PreTrainedModel

from hf_ser.baselines.configuration_baseline import BaselineConfig
from hf_ser.baselines.encoders import (
    IssaCnnEncoder,
    IssaMlpEncoder,
    LogMelCnnEncoder,
    logmel_bilstm,
    mfcc_rnn,
)
from hf_ser.models import SerOutput, concordance_correlation_loss
from hf_ser.models.modeling_ser import head_output

# kind -> encoder builder ``(**options) -> nn.Module`` with ``output_size``; see ``encoders`` for the options.
BASELINES = {
    "issa_cnn": IssaCnnEncoder,
    "issa_mlp": IssaMlpEncoder,
    "mfcc_rnn": mfcc_rnn,
    "logmel_cnn": LogMelCnnEncoder,
    "logmel_bilstm": logmel_bilstm,
}


def build_encoder(kind: str, options: dict) -> nn.Module:
    """The encoder of a baseline ``kind`` with its options; errors name the valid kinds or the bad option."""
    if kind not in BASELINES:
        raise KeyError(f"Unknown baseline kind {kind!r}; choose one of {sorted(BASELINES)}")
    try:
        return BASELINES[kind](**options)
    except TypeError as e:
        raise TypeError(f"model.options for {kind!r}: {e}") from e


# A clip without dimensional labels (NaN targets) is left out of the CCC loss by the shared head.
masked_ccc_loss = concordance_correlation_loss


class BaselineForSequenceClassification(PreTrainedModel):
    """Literature baseline for speech emotion recognition: encoder (by ``config.kind``) -> dropout -> heads.

    Args:
        config: a ``BaselineConfig``.
    """

    config_class = BaselineConfig
    base_model_prefix = "encoder"
    main_input_name = "input_values"

    def __init__(self, config: BaselineConfig) -> None:
        super().__init__(config)
        config.check()
        self.encoder = build_encoder(config.kind, config.options)
        self.dropout = nn.Dropout(config.dropout)
        width = self.encoder.output_size
        self.classifier = nn.Linear(width, config.num_labels) if config.task in ("classification", "multitask") else None
        self.regressor = nn.Linear(width, len(config.dims)) if config.task in ("regression", "multitask") else None
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        # PyTorch's default initialisation, as the original baselines used; nothing to override.
        return

    def forward(
        self,
        input_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        dims: torch.Tensor | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ) -> SerOutput | tuple:
        """Classify (and/or regress) a batch of waveforms.

        Args:
            input_values: (batch, samples) float waveform, 16 kHz (normalised by the feature extractor).
            attention_mask: (batch, samples), 1 on real samples, 0 on padding.
            labels: (batch,) int class ids (task "classification" / "multitask"); -100 is ignored.
            dims: (batch, n_dims) float targets in ``config.dims`` order, NaN when unknown.
            return_dict: False returns a tuple.

        Returns:
            ``SerOutput`` with ``loss`` (when targets are given), ``logits: (batch, num_labels)`` (the dims
            predictions for task "regression") and ``dims: (batch, n_dims)`` (regression / multitask).
        """
        pooled = self.dropout(self.encoder(input_values, attention_mask))
        logits = self.classifier(pooled) if self.classifier is not None else None
        dims_pred = self.regressor(pooled) if self.regressor is not None else None

        return head_output(self.config, logits, dims_pred, labels, dims, return_dict)
