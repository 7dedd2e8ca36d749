"""PLACEHOLDER: the msp_podcast loader is being written (replace this whole file)."""

from hf_ser.corpora._base import CorpusInfo

INFO = CorpusInfo(name="msp_podcast", title="msp_podcast", languages=(), labels=(), license="", url="")


def load_msp_podcast(root, **kwargs):
    raise NotImplementedError("msp_podcast loader not written yet")
