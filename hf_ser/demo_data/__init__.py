"""Built-in demo corpora: tiny RAVDESS, CREMA-D, EMO-DB and EMOVO look-alikes spoken by espeak-ng.

Each folder has the exact layout of the real distribution, so the real loaders read it unchanged
(``load_corpus("ravdess", demo_root("ravdess"))``). The speech is synthetic; see README.md in this folder
for how it was made and how to regenerate it (``scripts/make_demo_data.py``, needs espeak-ng).
"""

from __future__ import annotations

from pathlib import Path

DEMO_DATA_DIR = Path(__file__).resolve().parent

# Registry name (as in hf_ser.corpora.CORPORA) -> folder under DEMO_DATA_DIR that a loader takes as root.
DEMO_CORPORA: dict[str, str] = {
    "ravdess": "ravdess",
    "crema_d": "crema_d",
    "emodb": "emodb",
    "emovo": "emovo",
}


def demo_root(corpus: str) -> Path:
    """Root folder of the demo copy of ``corpus``, to pass as a loader's ``root``.

    Raises:
        KeyError: no demo copy of that corpus; the message lists the valid names.
    """
    try:
        return DEMO_DATA_DIR / DEMO_CORPORA[corpus]
    except KeyError:
        raise KeyError(f"no demo corpus {corpus!r}; demo corpora: {sorted(DEMO_CORPORA)}") from None


def is_demo_root(root: str | Path) -> bool:
    """Whether a corpus ``root`` is one of these synthetic copies: it resolves into this folder, or (for a run
    recorded elsewhere) its path passes through a ``demo_data`` folder. A model card never calls them the corpus.
    """
    path = Path(str(root).replace("\\", "/")).expanduser()
    try:
        if path.resolve().is_relative_to(DEMO_DATA_DIR):
            return True
    except OSError:
        pass
    return "demo_data" in path.parts
