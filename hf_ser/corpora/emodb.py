"""PLACEHOLDER: the emodb loader is being written (replace this whole file)."""

from hf_ser.corpora._base import CorpusInfo

INFO = CorpusInfo(name="emodb", title="emodb", languages=(), labels=(), license="", url="")


def load_emodb(root, **kwargs):
    raise NotImplementedError("emodb loader not written yet")
