"""The metric registry: every metric hf_ser reports, by the key it has in results and ``metrics.json``.

Training (validation, model selection), ``hf-ser evaluate``, the run tables, the fold aggregate, the model card
and the cross-corpus matrix read names, directions and order from here; ``hf_ser.metrics.scores`` computes them
under these keys. A new metric is one ``Metric`` here plus its computation there.
"""

from __future__ import annotations

from dataclasses import dataclass

UA, WA, MACRO_F1, CCC, LOSS = "ua", "wa", "macro_f1", "ccc", "loss"


@dataclass(frozen=True)
class Metric:
    """One reported metric."""

    key: str  # its key in every results dict
    label: str  # short name for table headers
    title: str  # long name (model card)
    higher_is_better: bool
    computed: str  # how it is computed (where: hf_ser.metrics.scores)
    hub_type: str | None = None  # the model-index metric type of a Hub model card; None: not on the card

    def oriented(self, value: float) -> float:
        """``value`` turned so that larger is better (what model selection compares)."""
        return value if self.higher_is_better else -value


METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric(UA, "UA", "UA (unweighted average recall)", True,
               "mean over classes with reference clips of their recall (sklearn balanced_accuracy_score)", "recall"),
        Metric(WA, "WA", "WA (accuracy)", True, "correct clips / clips", "accuracy"),
        Metric(MACRO_F1, "macro-F1", "Macro F1", True,
               "mean F1 over classes that occur in the references or the predictions", "f1"),
        Metric(CCC, "CCC", "mean CCC", True, "concordance correlation per dimension, averaged over dimensions"),
        Metric(LOSS, "loss", "loss", False, "mean cross-entropy of the clip logits (clips with a model class)"),
    )
}
# The class metrics, in the order every table shows them.
CLASS_METRICS: tuple[str, ...] = (UA, WA, MACRO_F1)
# The calibration figures every evaluated split of a classifier carries (``calibration.calibration_scores``), in the
# order tables show them; lower is better for both.
CALIBRATION: tuple[str, ...] = ("ece", "brier")
# What model selection (``train.select_metric``) may choose.
SELECT_METRICS: tuple[str, ...] = tuple(METRICS)
