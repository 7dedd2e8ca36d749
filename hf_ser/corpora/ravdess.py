"""PLACEHOLDER: the ravdess loader is being written (replace this whole file)."""

from hf_ser.corpora._base import CorpusInfo

INFO = CorpusInfo(name="ravdess", title="ravdess", languages=(), labels=(), license="", url="")


def load_ravdess(root, **kwargs):
    raise NotImplementedError("ravdess loader not written yet")
