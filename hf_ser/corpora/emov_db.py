"""PLACEHOLDER: the emov_db loader is being written (replace this whole file)."""

from hf_ser.corpora._base import CorpusInfo

INFO = CorpusInfo(name="emov_db", title="emov_db", languages=(), labels=(), license="", url="")


def load_emov_db(root, **kwargs):
    raise NotImplementedError("emov_db loader not written yet")
