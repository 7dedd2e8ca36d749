"""Load the `evaluate` modules shipped inside hf_ser, offline and once per process.

``evaluate.load("accuracy")`` fetches its script from the Hub, which hf_ser cannot rely on; a path to a
module directory shipped in the package is loaded locally (evaluate copies it into its modules cache).
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import evaluate

logger = logging.getLogger(__name__)

_HERE = Path(__file__).resolve().parent

# name -> module directory (each holds <name>/<name>.py, the layout evaluate.load expects).
METRIC_MODULES: dict[str, Path] = {
    "ser_classification": _HERE / "ser_classification",
    "ser_regression": _HERE / "ser_regression",
}


def metric_path(name: str) -> Path:
    """Directory of a shipped metric module; the error lists the valid names."""
    try:
        return METRIC_MODULES[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; shipped metrics: {sorted(METRIC_MODULES)}") from None


@functools.cache
def load_metric(name: str) -> evaluate.EvaluationModule:
    """``evaluate.load`` a shipped metric by name, cached (loading copies files and imports a module)."""
    # An absolute local path never reaches the Hub, whatever HF_HUB_OFFLINE says.
    return evaluate.load(str(metric_path(name)))
