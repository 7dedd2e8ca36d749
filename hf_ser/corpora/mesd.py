"""PLACEHOLDER: the mesd loader is being written (replace this whole file)."""

from hf_ser.corpora._base import CorpusInfo

INFO = CorpusInfo(name="mesd", title="mesd", languages=(), labels=(), license="", url="")


def load_mesd(root, **kwargs):
    raise NotImplementedError("mesd loader not written yet")
