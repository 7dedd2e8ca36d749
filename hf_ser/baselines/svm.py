"""SVM on the 193 Issa features: a scikit-learn path outside the gradient loop.

An SVM has no minibatch gradient step, so it does not go through ``hf_ser.train``; it reuses the same cached
features (``IssaFeatureCache``) and the same per-clip normalisation as the collator, so its inputs match those
of ``issa_cnn`` / ``issa_mlp``. Typical use: fit on a fold's training rows, score its test rows with
``hf_ser.metrics.classification_metrics``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from hf_ser.baselines.issa_features import IssaFeatureCache


def normalize_wave(wave: np.ndarray) -> np.ndarray:
    """Per-clip zero mean / unit variance, as ``hf_ser.data.batching.Collator`` does before a model sees a clip."""
    wave = np.asarray(wave, dtype=np.float32)
    return ((wave - wave.mean()) / np.sqrt(wave.var() + 1e-7)).astype(np.float32)


def issa_feature_matrix(get_wave: Callable[[int], np.ndarray], indices: Sequence[int], cache: IssaFeatureCache) -> np.ndarray:
    """Stack the cached 193-vectors of the given rows.

    Args:
        get_wave: row index -> 16 kHz waveform (e.g. ``PreparedData.wave``).
        indices: rows to take.
        cache: feature cache (shared with the neural Issa baselines when it has the same folder).

    Returns:
        (len(indices), 193) float32.
    """
    return np.stack([cache.get(normalize_wave(get_wave(i))) for i in indices]) if len(indices) else np.zeros((0, 193), np.float32)


def fit_svm(features: np.ndarray, label_ids: Sequence[int], *, C: float = 10.0, kernel: str = "rbf", seed: int = 0) -> Pipeline:
    """Standardise the features and fit a class-balanced SVM.

    Args:
        features: (n, 193) training features.
        label_ids: (n,) class ids.
        C: SVM regularisation.
        kernel: scikit-learn kernel name.
        seed: random state.

    Returns:
        A fitted scikit-learn pipeline; ``.predict(features) -> (n,)`` class ids.
    """
    pipeline = make_pipeline(StandardScaler(), SVC(C=C, kernel=kernel, class_weight="balanced", random_state=seed))
    return pipeline.fit(np.asarray(features), np.asarray(label_ids))
