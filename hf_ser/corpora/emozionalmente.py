"""PLACEHOLDER: the emozionalmente loader is being written (replace this whole file)."""

from hf_ser.corpora._base import CorpusInfo

INFO = CorpusInfo(name="emozionalmente", title="emozionalmente", languages=(), labels=(), license="", url="")


def load_emozionalmente(root, **kwargs):
    raise NotImplementedError("emozionalmente loader not written yet")
