"""MSP-Podcast loader: Audios/ or Audio/, consensus labels as CSV or JSON (both spellings), splits, dims."""

from __future__ import annotations

import json
import math

import pytest
from audio_fixtures import write_wav

from hf_ser.corpora import CorpusLayoutError, load_corpus
from hf_ser.corpora.msp_podcast import INFO, load_msp_podcast

HEADER = "FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set\n"
ROWS = [
    ("MSP-PODCAST_0001_0008.wav", "N", "4.2", "4.4", "4.6", "127", "Female", "Train"),
    ("MSP-PODCAST_0001_0009.wav", "A", "6.0", "2.0", "5.8", "127", "Female", "Development"),
    ("MSP-PODCAST_0002_0001.wav", "H", "5.0", "6.2", "4.0", "Unknown", "Unknown", "Validation"),
    ("MSP-PODCAST_0003_0001.wav", "X", "3.0", "3.5", "", "55.0", "Male", "Test1"),
    ("MSP-PODCAST_0003_0002.wav", "O", "2.0", "4.0", "3.0", "55", "Male", "Test2"),
    ("MSP-PODCAST_0004_0001.wav", "C", "4.0", "2.5", "4.5", "9", "Male", "Test3"),
    ("MSP-PODCAST_0009_0009.wav", "S", "2.0", "2.0", "2.0", "9", "Male", "Train"),  # no audio file
]


def _tree(root, *, audio_folder="Audios", label_name="labels_consensus.csv"):
    for name, *_ in ROWS[:-1]:
        write_wav(root / audio_folder / name, sample_rate=16_000, seconds=0.2)
    write_wav(
        root / audio_folder / "MSP-PODCAST_0005_0001.wav", sample_rate=16_000, seconds=0.2
    )  # no label row
    (root / "Labels").mkdir(parents=True)
    if label_name.endswith(".csv"):
        (root / "Labels" / label_name).write_text(HEADER + "".join(",".join(r) + "\n" for r in ROWS))
    else:
        keys = HEADER.strip().split(",")[1:]
        data = {r[0]: dict(zip(keys, r[1:])) for r in ROWS}
        (root / "Labels" / label_name).write_text(json.dumps(data))
    (root / "Transcripts").mkdir()
    (root / "Transcripts" / "MSP-PODCAST_0001_0008.txt").write_text("well I think so\n")
    return root


@pytest.mark.parametrize(
    ("audio_folder", "label_name"),
    [
        ("Audios", "labels_consensus.csv"),
        ("Audio", "labels_consensus.json"),
        ("Audio", "labels_concensus.csv"),
    ],
)
def test_layouts_categorical(tmp_path, audio_folder, label_name):
    ds, log = load_corpus(
        "msp_podcast", _tree(tmp_path / "msp", audio_folder=audio_folder, label_name=label_name)
    )
    rows = {r["utt_id"]: r for r in ds}
    assert set(rows) == {
        "MSP-PODCAST_0001_0008",
        "MSP-PODCAST_0001_0009",
        "MSP-PODCAST_0002_0001",
        "MSP-PODCAST_0004_0001",
    }
    n = rows["MSP-PODCAST_0001_0008"]
    assert (n["label"], n["orig_label"], n["speaker"], n["gender"], n["split"]) == (
        "neutral",
        "N",
        "127",
        "female",
        "train",
    )
    assert (n["arousal"], n["valence"], n["dominance"]) == pytest.approx((4.2, 4.4, 4.6))
    assert n["text"] == "well I think so" and n["language"] == "en"
    assert n["rel_path"] == f"{audio_folder}/MSP-PODCAST_0001_0008.wav"
    assert rows["MSP-PODCAST_0001_0009"]["split"] == "validation"  # Development
    u = rows["MSP-PODCAST_0002_0001"]
    assert (u["split"], u["speaker"], u["gender"], u["label"]) == (
        "validation",
        "unknown",
        "unknown",
        "happiness",
    )
    c = rows["MSP-PODCAST_0004_0001"]
    assert (c["label"], c["split"]) == ("contempt", "test3")
    assert [(s.path, s.reason) for s in log.skipped] == [
        (f"{audio_folder}/MSP-PODCAST_0005_0001.wav", "no row in the consensus label file")
    ]
    assert log.excluded_by_label_set == 2  # O and X
    assert (log.found, log.used) == (7, 4) and log.reconciles()


def test_all_clips_for_dimensional_work(tmp_path):
    ds, log = load_corpus("msp_podcast", _tree(tmp_path / "msp"), categorical_only=False)
    rows = {r["utt_id"]: r for r in ds}
    assert len(rows) == 6 and log.excluded_by_label_set == 0
    x = rows["MSP-PODCAST_0003_0001"]
    assert (x["label"], x["orig_label"], x["split"], x["speaker"]) == ("other", "X", "test1", "55")
    assert x["arousal"] == pytest.approx(3.0) and math.isnan(x["dominance"])
    assert (rows["MSP-PODCAST_0003_0002"]["orig_label"], rows["MSP-PODCAST_0003_0002"]["split"]) == (
        "O",
        "test2",
    )
    assert log.reconciles()


def test_user_map_cannot_revive_x_while_categorical_only(tmp_path):
    ds, log = load_corpus(
        "msp_podcast", _tree(tmp_path / "msp"), label_map={"X": "neutral", "contempt": None}
    )
    assert sorted(ds["label"]) == ["anger", "happiness", "neutral"]
    assert log.excluded_by_label_set == 3 and log.reconciles()


def test_missing_labels(tmp_path):
    write_wav(tmp_path / "msp" / "Audios" / "MSP-PODCAST_0001_0008.wav", seconds=0.2)
    with pytest.raises(CorpusLayoutError, match="consensus label file"):
        load_msp_podcast(tmp_path / "msp")


def test_missing_audio_folder(tmp_path):
    (tmp_path / "msp" / "Labels").mkdir(parents=True)
    with pytest.raises(CorpusLayoutError, match="audio folder"):
        load_msp_podcast(tmp_path / "msp")


def test_info():
    assert set(INFO.protocols) == {"msp_podcast_official", "speaker_kfold"} and "contempt" in INFO.labels
