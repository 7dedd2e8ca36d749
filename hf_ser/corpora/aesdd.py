"""PLACEHOLDER: the aesdd loader is being written (replace this whole file)."""

from hf_ser.corpora._base import CorpusInfo

INFO = CorpusInfo(name="aesdd", title="aesdd", languages=(), labels=(), license="", url="")


def load_aesdd(root, **kwargs):
    raise NotImplementedError("aesdd loader not written yet")
