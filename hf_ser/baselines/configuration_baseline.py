"""BaselineConfig: the configuration of every ``BaselineForSequenceClassification`` (one per ``kind``)."""

from __future__ import annotations

from typing import Any

from transformers import PretrainedConfig

from hf_ser.saved_format import upgrade

TASKS = ("classification", "regression", "multitask")


class BaselineConfig(PretrainedConfig):
    """Configuration of a literature baseline: an encoder from ``hf_ser.baselines.BASELINES`` plus the heads.

    The options are those of ``hf_ser.model_options.BaselineOptions`` (declared there once), stored under their
    own names; ``build_baseline`` passes every one of them, and a saved config of an older format is upgraded
    on load (``hf_ser.saved_format``).

    Args:
        kind: key of ``BASELINES`` (``issa_cnn``, ``issa_mlp``, ``mfcc_rnn``, ``logmel_cnn``, ``logmel_bilstm``).
        class_weights: per-class cross-entropy weights, ordered by label id (computed per run), or None.
        **kwargs: the options, ``id2label`` and the other ``PretrainedConfig`` arguments.
    """

    model_type = "hf_ser_baseline"

    def __init__(self, kind: str = "issa_cnn", class_weights: list[float] | None = None, **kwargs: Any) -> None:
        self.kind = kind
        self.class_weights = None if class_weights is None else [float(w) for w in class_weights]
        super().__init__(**kwargs)

    @classmethod
    def from_dict(cls, config_dict: dict[str, Any], **kwargs: Any) -> BaselineConfig:
        """A saved config: an older format is migrated and a newer one refused first."""
        return super().from_dict(upgrade(cls.model_type, dict(config_dict)), **kwargs)

    def check(self) -> None:
        """Refuse option combinations no model can be built from (called when a model is made)."""
        if self.task not in TASKS:
            raise ValueError(f"Unknown task {self.task!r}; choose one of {list(TASKS)}")
        if self.task in ("regression", "multitask") and not self.dims:
            raise ValueError(f"task={self.task!r} needs dims, e.g. ('valence', 'arousal')")
        if self.class_weights is not None and len(self.class_weights) != len(self.id2label):
            raise ValueError(f"class_weights has {len(self.class_weights)} entries for {len(self.id2label)} labels")
