"""PLACEHOLDER: the crema_d loader is being written (replace this whole file)."""

from hf_ser.corpora._base import CorpusInfo

INFO = CorpusInfo(name="crema_d", title="crema_d", languages=(), labels=(), license="", url="")


def load_crema_d(root, **kwargs):
    raise NotImplementedError("crema_d loader not written yet")
