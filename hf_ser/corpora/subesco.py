"""PLACEHOLDER: the subesco loader is being written (replace this whole file)."""

from hf_ser.corpora._base import CorpusInfo

INFO = CorpusInfo(name="subesco", title="subesco", languages=(), labels=(), license="", url="")


def load_subesco(root, **kwargs):
    raise NotImplementedError("subesco loader not written yet")
