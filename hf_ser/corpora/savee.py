"""PLACEHOLDER: the savee loader is being written (replace this whole file)."""

from hf_ser.corpora._base import CorpusInfo

INFO = CorpusInfo(name="savee", title="savee", languages=(), labels=(), license="", url="")


def load_savee(root, **kwargs):
    raise NotImplementedError("savee loader not written yet")
