"""SER classification metric as an `evaluate` module: WA, UA, macro-F1, per-class recall/precision, confusion.

Load it from its path (works offline, nothing is fetched from the Hub)::

    metric = evaluate.load("<path to hf_ser/metrics/ser_classification>")
    metric.compute(predictions=[0, 1], references=[0, 0], labels=["anger", "neutral"])

WA is plain accuracy; UA (unweighted average recall) is sklearn's ``balanced_accuracy_score``: classes with no
reference clip have no recall and are left out of the mean; macro-F1 averages over classes that occur in the
references or the predictions. The numbers come from ``hf_ser.metrics.scores`` (one implementation).
"""

import datasets
import evaluate

from hf_ser.metrics.scores import classification_scores

_DESCRIPTION = __doc__
_KWARGS_DESCRIPTION = """
Args:
    predictions (list of int): predicted class indices into ``labels``.
    references (list of int): true class indices into ``labels``.
    labels (list of str): class names; their order fixes the confusion matrix order.
Returns:
    wa, ua, macro_f1 (float or None), n (int), per_class_recall / per_class_precision / per_class_f1
    ({label: float or None}, None = undefined), support ({label: int}), confusion ([[int]], rows = reference,
    columns = prediction), labels ([str]).
"""
_CITATION = ""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class SerClassification(evaluate.Metric):
    """WA / UA / macro-F1 / confusion for speech emotion recognition."""

    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}
            ),
        )

    def _compute(self, predictions, references, labels=None):
        if labels is None:
            raise ValueError("ser_classification needs `labels` (the class names, in index order)")
        return classification_scores(references, predictions, labels)
