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

    def check(self) -> None:
        """Refuse option combinations no model can be built from (called when a model is made)."""
        if self.task not in TASKS:
            raise ValueError(f"Unknown task {self.task!r}; choose one of {list(TASKS)}")
        if self.task in ("regression", "multitask") and not self.dims:
            raise ValueError(f"task={self.task!r} needs dims, e.g. ('valence', 'arousal')")
        if self.class_weights is not None and len(self.class_weights) != len(self.id2label):
            raise ValueError(f"class_weights has {len(self.class_weights)} entries for {len(self.id2label)} labels")

    @classmethod
    def from_dict(cls, config_dict: dict[str, Any], **kwargs: Any):
        """A configuration read back from a saved ``config.json`` (``from_pretrained`` and the Auto classes).

        An older saved format is migrated and a newer one refused first (``hf_ser.saved_format.upgrade``). A saved
        file never chooses where features are written or read: a ``feature_cache_dir`` folder in its encoder
        ``options`` is replaced by "auto" (``$HF_SER_CACHE/features/issa193``); memory only (null) is kept. Only a
        recipe, which the user wrote, names another folder.
        """
        config_dict = upgrade(cls.model_type, dict(config_dict))
        options = dict(config_dict.get("options") or {})
        if options.get("feature_cache_dir") not in (None, "", "none", "auto"):
            options["feature_cache_dir"] = "auto"
            config_dict = {**config_dict, "options": options}
        return super().from_dict(config_dict, **kwargs)
