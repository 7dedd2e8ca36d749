"""BaselineConfig: the configuration of every ``BaselineForSequenceClassification`` (one per ``kind``)."""

from __future__ import annotations

from typing import Any

from transformers import PretrainedConfig

TASKS = ("classification", "regression", "multitask")


class BaselineConfig(PretrainedConfig):
    """Configuration of a literature baseline: an encoder from ``hf_ser.baselines.BASELINES`` plus the heads.

    Args:
        kind: key of ``BASELINES`` (``issa_cnn``, ``issa_mlp``, ``mfcc_rnn``, ``logmel_cnn``, ``logmel_bilstm``).
        encoder_options: keyword options of that encoder (the recipe's ``model.options``).
        classifier_dropout: dropout on the clip vector before the heads.
        task: "classification", "regression" (dims) or "multitask" (both).
        dims: names of the regressed dimensions, e.g. ("valence", "arousal").
        class_weights: per-class cross-entropy weights, ordered by label id.
        label_smoothing: cross-entropy label smoothing.
        regression_loss_weight: weight of the (1 - CCC) loss in the multitask loss (classification weight is 1).
    """

    model_type = "hf_ser_baseline"

    def __init__(
        self,
        kind: str = "issa_cnn",
        encoder_options: dict[str, Any] | None = None,
        classifier_dropout: float = 0.1,
        task: str = "classification",
        dims: list[str] | tuple[str, ...] = (),
        class_weights: list[float] | None = None,
        label_smoothing: float = 0.0,
        regression_loss_weight: float = 1.0,
        loss: str = "ce",
        focal_gamma: float = 2.0,
        **kwargs: Any,
    ) -> None:
        self.kind = kind
        self.encoder_options = dict(encoder_options or {})
        self.classifier_dropout = float(classifier_dropout)
        self.task = task
        self.dims = list(dims)
        self.class_weights = None if class_weights is None else [float(w) for w in class_weights]
        self.label_smoothing = float(label_smoothing)
        self.regression_loss_weight = float(regression_loss_weight)
        self.loss = loss
        self.focal_gamma = float(focal_gamma)
        super().__init__(**kwargs)
        if self.task not in TASKS:
            raise ValueError(f"Unknown task {self.task!r}; choose one of {list(TASKS)}")
        if self.task in ("regression", "multitask") and not self.dims:
            raise ValueError(f"task={self.task!r} needs dims, e.g. ('valence', 'arousal')")
        if self.class_weights is not None and len(self.class_weights) != len(self.id2label):
            raise ValueError(f"class_weights has {len(self.class_weights)} entries for {len(self.id2label)} labels")

    @classmethod
    def from_dict(cls, config_dict: dict[str, Any], **kwargs: Any):
        """A configuration read back from a saved ``config.json`` (``from_pretrained`` and the Auto classes).

        A saved file never chooses where features are written or read: a ``feature_cache_dir`` folder in its
        ``encoder_options`` is replaced by "auto" (``$HF_SER_CACHE/features/issa193``); memory only (null) is
        kept. Only a recipe, which the user wrote, names another folder.
        """
        options = dict(config_dict.get("encoder_options") or {})
        if options.get("feature_cache_dir") not in (None, "", "none", "auto"):
            options["feature_cache_dir"] = "auto"
            config_dict = {**config_dict, "encoder_options": options}
        return super().from_dict(config_dict, **kwargs)
