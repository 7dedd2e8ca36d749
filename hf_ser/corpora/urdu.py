"""PLACEHOLDER: the urdu loader is being written (replace this whole file)."""

from hf_ser.corpora._base import CorpusInfo

INFO = CorpusInfo(name="urdu", title="urdu", languages=(), labels=(), license="", url="")


def load_urdu(root, **kwargs):
    raise NotImplementedError("urdu loader not written yet")
