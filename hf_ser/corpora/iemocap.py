"""PLACEHOLDER: the iemocap loader is being written (replace this whole file)."""

from hf_ser.corpora._base import CorpusInfo

INFO = CorpusInfo(name="iemocap", title="iemocap", languages=(), labels=(), license="", url="")


def load_iemocap(root, **kwargs):
    raise NotImplementedError("iemocap loader not written yet")
