"""The canonical schema every corpus loader returns.

One row is one clip. Columns that a corpus does not have hold ``""`` (strings) or NaN (floats), so datasets
from different corpora concatenate without casting. Corpus-specific extras (RAVDESS intensity, EMO-DB
text code, ...) go into ``meta`` as a JSON object so that the columns stay the same everywhere. The vote
columns (``votes``, ``n_raters``, ``perceived_label``) are described in ``hf_ser.corpora._votes``.
"""

from __future__ import annotations

import datasets

from hf_ser.corpora._labels import CANONICAL_LABELS

GENDERS = ("female", "male", "unknown")

FEATURES = datasets.Features(
    {
        "utt_id": datasets.Value("string"),  # unique within the corpus, e.g. "03-01-05-01-02-01-18"
        "corpus": datasets.Value("string"),  # registry name, e.g. "ravdess"
        "path": datasets.Value("string"),  # absolute path of the audio file as loaded
        "rel_path": datasets.Value("string"),  # path relative to the corpus root (what manifests store)
        "label": datasets.Value("string"),  # canonical emotion after the label set / user map
        "orig_label": datasets.Value("string"),  # the corpus's own code, e.g. "05", "W", "rab", "ANG"
        "speaker": datasets.Value("string"),  # corpus-local speaker id, e.g. "18", "1001", "Ses01M"
        "gender": datasets.Value("string"),  # one of GENDERS
        "language": datasets.Value("string"),  # ISO 639-1, e.g. "en", "de", "it"
        "text": datasets.Value("string"),  # transcript when known, else ""
        "session": datasets.Value("string"),  # recording session (IEMOCAP "Ses01"), else ""
        "split": datasets.Value("string"),  # official split name when the corpus defines one, else ""
        "valence": datasets.Value("float32"),  # dimensional labels, NaN when absent
        "arousal": datasets.Value("float32"),
        "dominance": datasets.Value("float32"),
        "duration_s": datasets.Value("float32"),  # from the file header
        "sample_rate": datasets.Value("int32"),  # native header rate (loaders never assume it)
        "meta": datasets.Value("string"),  # JSON object with corpus-specific fields
        # Annotator votes (hf_ser.corpora._votes): vote mass per canonical label in CANONICAL_LABELS order (all 0
        # without votes), the number of raters (0 = unknown), the corpus-defined majority ("" = none).
        "votes": datasets.Sequence(datasets.Value("float32"), length=len(CANONICAL_LABELS)),
        "n_raters": datasets.Value("int32"),
        "perceived_label": datasets.Value("string"),
    }
)

# The vote columns of a clip without annotator votes (what every corpus without vote files carries).
NO_VOTES: dict[str, object] = {"votes": [0.0] * len(CANONICAL_LABELS), "n_raters": 0, "perceived_label": ""}

def read_columns(dataset: datasets.Dataset, names: tuple[str, ...] | list[str]) -> dict[str, list]:
    """Whole columns of ``dataset`` as plain lists, read once through Arrow (selections and concatenations
    included); names the dataset lacks are left out.

    With the pinned ``datasets``, ``dataset[name]`` is a lazy ``Column``: every index or iteration step costs
    10-100 us (more after ``concatenate_datasets``), so hot paths read columns with this instead.
    """
    table = dataset.with_format("arrow")
    return {name: table[name].to_pylist() for name in names if name in dataset.column_names}


def clip_key(corpus: str, utt_id: str) -> str:
    """``corpus/utt_id``: a clip's identity across corpora (audio store, split lists, alignment cache, donors).

    The only place this key is spelled; everything that names a clip by string calls this.
    """
    return f"{corpus}/{utt_id}"


def speaker_key(corpus: str, speaker: str) -> str:
    """``corpus/speaker``: the unit every split groups by, so two corpora's speaker "01" never merge."""
    return f"{corpus}/{speaker}"
