"""PLACEHOLDER: the esd loader is being written (replace this whole file)."""

from hf_ser.corpora._base import CorpusInfo

INFO = CorpusInfo(name="esd", title="esd", languages=(), labels=(), license="", url="")


def load_esd(root, **kwargs):
    raise NotImplementedError("esd loader not written yet")
