"""Cross-corpus evaluation: label harmonisation, inference, metrics with CIs, reports and plots.

``evaluate_model`` scores a saved model on a canonical-schema dataset (``rescore`` against another label
column, e.g. CREMA-D's perceived labels; ``evaluate_dimensions`` scores a regression / multitask model's
dimensions with CCC); ``write_report`` writes
report.json / report.md / confusion PNGs; ``plot_confusion`` and ``plot_curves`` are also used by the trainer;
``check_not_validation`` refuses a target corpus that is used as validation data. ``inference`` is the one
place a model meets audio (``load_model``, ``clip_windows``, ``infer_logits``); ``scoring.score_logits`` is the
one masked / unmasked scoring path (training, ``evaluate`` and ``matrix``).

Names are imported on first use: ``hf-ser`` builds every command's parser from
``hf_ser.commands.evaluate``, and that must not pay for importing torch and transformers.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> submodule that defines it
_EXPORTS: dict[str, str] = {
    "EvalResult": "hf_ser.evaluation.evaluator",
    "evaluate_model": "hf_ser.evaluation.evaluator",
    "rescore": "hf_ser.evaluation.evaluator",
    "DimensionalResult": "hf_ser.evaluation.dimensional",
    "evaluate_dimensions": "hf_ser.evaluation.dimensional",
    "CrossCorpusLeakError": "hf_ser.evaluation.guard",
    "check_not_validation": "hf_ser.evaluation.guard",
    "LabelPlan": "hf_ser.evaluation.harmonise",
    "apply_label_map": "hf_ser.evaluation.harmonise",
    "plan_labels": "hf_ser.evaluation.harmonise",
    "predict": "hf_ser.evaluation.harmonise",
    "ForeignCodeError": "hf_ser.evaluation.inference",
    "clip_windows": "hf_ser.evaluation.inference",
    "infer_logits": "hf_ser.evaluation.inference",
    "load_model": "hf_ser.evaluation.inference",
    "Scores": "hf_ser.evaluation.scoring",
    "score_logits": "hf_ser.evaluation.scoring",
    "plot_confusion": "hf_ser.evaluation.plots",
    "plot_curves": "hf_ser.evaluation.plots",
    "summary_table": "hf_ser.evaluation.report",
    "write_report": "hf_ser.evaluation.report",
    "read_run_protocol": "hf_ser.run_dir",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'hf_ser.evaluation' has no attribute {name!r}; public: {sorted(_EXPORTS)}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


__all__ = sorted(_EXPORTS)
