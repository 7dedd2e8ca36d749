"""Reading the few columns augmentations need from a canonical dataset (or a list of row dicts)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hf_ser.corpora import clip_key

if TYPE_CHECKING:
    import datasets


def columns(
    rows: datasets.Dataset | Sequence[Mapping[str, Any]],
    names: Sequence[str],
    *,
    required: Sequence[str] = (),
) -> dict[str, list[str]]:
    """Columns ``names`` of ``rows`` as lists of strings; absent optional columns are all ``""``.

    Raises:
        KeyError: a column in ``required`` is missing.
    """
    available = set(getattr(rows, "column_names", None) or (rows[0].keys() if len(rows) else names))
    missing = [n for n in required if n not in available]
    if missing:
        raise KeyError(f"rows lack required columns {missing}; they have {sorted(available)}")
    out = {}
    for name in names:
        if name not in available:
            out[name] = [""] * len(rows)
        elif hasattr(rows, "column_names"):
            out[name] = ["" if v is None else str(v) for v in rows[name]]
        else:
            out[name] = ["" if r.get(name) is None else str(r.get(name)) for r in rows]
    return out


def keys_of(rows: datasets.Dataset | Sequence[Mapping[str, Any]]) -> list[str]:
    """Clip keys ``"<corpus>/<utt_id>"`` of ``rows``, in order."""
    cols = columns(rows, ["corpus", "utt_id"], required=["corpus", "utt_id"])
    return [clip_key(c, u) for c, u in zip(cols["corpus"], cols["utt_id"])]
