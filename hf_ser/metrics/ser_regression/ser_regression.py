"""SER dimensional metric as an `evaluate` module: CCC, Pearson, Spearman and MAE per dimension.

Load it from its path (works offline)::

    metric = evaluate.load("<path to hf_ser/metrics/ser_regression>")
    metric.compute(predictions=[[0.1, 0.2]], references=[[0.0, 0.3]], dims=["arousal", "valence"])

CCC is Lin's concordance correlation coefficient with population variances. The numbers come from
``hf_ser.metrics.scores`` (one implementation).
"""

import datasets
import evaluate

from hf_ser.metrics.scores import regression_scores

_DESCRIPTION = __doc__
_KWARGS_DESCRIPTION = """
Args:
    predictions (list of list of float): (n, d) predicted values.
    references (list of list of float): (n, d) true values.
    dims (list of str): the d dimension names.
Returns:
    n, dims, per_dim ({dim: {ccc, pearson, spearman, mae}}), mean_ccc.
"""
_CITATION = ""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class SerRegression(evaluate.Metric):
    """CCC / Pearson / Spearman / MAE per emotion dimension."""

    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("float64")),
                    "references": datasets.Sequence(datasets.Value("float64")),
                }
            ),
        )

    def _compute(self, predictions, references, dims=None):
        if dims is None:
            raise ValueError("ser_regression needs `dims` (the dimension names, in column order)")
        return regression_scores(references, predictions, dims)
