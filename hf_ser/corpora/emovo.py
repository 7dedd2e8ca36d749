"""PLACEHOLDER: the emovo loader is being written (replace this whole file)."""

from hf_ser.corpora._base import CorpusInfo

INFO = CorpusInfo(name="emovo", title="emovo", languages=(), labels=(), license="", url="")


def load_emovo(root, **kwargs):
    raise NotImplementedError("emovo loader not written yet")
