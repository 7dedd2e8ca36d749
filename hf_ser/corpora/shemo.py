"""PLACEHOLDER: the shemo loader is being written (replace this whole file)."""

from hf_ser.corpora._base import CorpusInfo

INFO = CorpusInfo(name="shemo", title="shemo", languages=(), labels=(), license="", url="")


def load_shemo(root, **kwargs):
    raise NotImplementedError("shemo loader not written yet")
