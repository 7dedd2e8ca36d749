"""Cross-corpus guard: a corpus held out as an evaluation target must never serve as validation data."""

from __future__ import annotations

from collections.abc import Iterable

from hf_ser.errors import UserError


class CrossCorpusLeakError(UserError, ValueError):
    """A target corpus is also used for validation (model selection would peek at the target)."""


def check_not_validation(target_corpora: Iterable[str], validation_corpora: Iterable[str]) -> None:
    """Refuse a run whose held-out target corpora are also used for validation.

    Args:
        target_corpora: corpora reported as cross-corpus targets.
        validation_corpora: corpora that supply the validation split (early stopping, checkpoint choice).

    Raises:
        CrossCorpusLeakError: the two sets overlap.
    """
    overlap = sorted(set(target_corpora) & set(validation_corpora))
    if overlap:
        raise CrossCorpusLeakError(
            f"target corpora {overlap} are also used as validation data: model selection on a target corpus "
            "makes its cross-corpus numbers optimistic. Select models on the source corpora's validation split "
            "only, and evaluate the target with `hf-ser evaluate` afterwards."
        )
