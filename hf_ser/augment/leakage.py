"""The leakage guard: augmentation donors must never be validation or test clips.

Augmentations only ever see the training rows they are built with, so donors are training clips by
construction. ``assert_no_leakage`` lets the trainer check that the training rows themselves share no clip
with the validation/test rows (same ``corpus/utt_id``, or the same audio file under another id).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hf_ser.augment._rows import columns, keys_of

if TYPE_CHECKING:
    import datasets


class LeakageError(AssertionError):
    """A clip that can serve as an augmentation donor also appears in validation or test data."""


def assert_no_leakage(
    train_rows: datasets.Dataset | Sequence[Mapping[str, Any]],
    other_rows: datasets.Dataset | Sequence[Mapping[str, Any]],
) -> None:
    """Raise ``LeakageError`` if any clip of ``other_rows`` (validation/test) is among the donors.

    Donors are the training rows, so a clip is leaked when its key ``corpus/utt_id`` or its non-empty
    ``path`` also occurs in ``train_rows``.
    """
    train_keys = set(keys_of(train_rows))
    leaked = sorted(k for k in set(keys_of(other_rows)) if k in train_keys)
    train_paths = {p for p in columns(train_rows, ["path"])["path"] if p}
    leaked_paths = sorted({p for p in columns(other_rows, ["path"])["path"] if p and p in train_paths})
    if leaked or leaked_paths:
        shown = (leaked + leaked_paths)[:5]
        raise LeakageError(
            f"{len(leaked)} clip keys and {len(leaked_paths)} audio paths of the validation/test rows are also "
            f"training rows, so augmentation could use them as donors; e.g. {shown}"
        )
