"""Manifest loader: CSV / TSV / JSON-lines, relative and absolute paths, label maps, row accounting."""

from __future__ import annotations

import json
import math

import pytest
from audio_fixtures import write_wav

from hf_ser.corpora import CorpusLayoutError, load_corpus
from hf_ser.corpora._labels import UnknownLabelsError
from hf_ser.corpora.manifest import INFO, load_manifest


def _csv_tree(root, outside):
    write_wav(root / "wavs" / "spk1" / "a01.wav", sample_rate=16_000, seconds=0.2)
    write_wav(root / "wavs" / "spk2" / "b01.wav", sample_rate=22_050, seconds=0.2)
    write_wav(outside / "elsewhere.wav", sample_rate=48_000, seconds=0.2)
    (root / "manifest.csv").write_text(
        "path,label,speaker,gender,language,text,split,arousal,valence,dominance,utt_id,style\n"
        "wavs/spk1/a01.wav,Anger,spk1,F,en,hello there,train,0.8,0.2,0.5,,acted\n"
        "wavs/spk2/b01.wav,ang,spk2,male,en,,test,,,,my_id,\n"
        f"{outside / 'elsewhere.wav'},neutral,,x,de,,,,,,,\n"
        "wavs/spk3/missing.wav,sadness,spk3,,,,,,,,,\n"
        "wavs/spk1/a01.wav,grumpy,spk1,,,,,,,,dup,\n"
        ",sadness,spk3,,,,,,,,,\n"
    )
    return root


def test_csv_manifest(tmp_path):
    root = _csv_tree(tmp_path / "corpus", tmp_path / "outside")
    ds, log = load_corpus("manifest", root, label_map={"grumpy": None})
    rows = {r["utt_id"]: r for r in ds}
    assert set(rows) == {"wavs/spk1/a01", "my_id", "elsewhere"}
    a = rows["wavs/spk1/a01"]
    assert (a["label"], a["orig_label"], a["speaker"], a["gender"], a["language"]) == (
        "anger",
        "Anger",
        "spk1",
        "female",
        "en",
    )
    assert (a["text"], a["split"], a["corpus"]) == ("hello there", "train", "manifest")
    assert (a["arousal"], a["valence"], a["dominance"]) == pytest.approx((0.8, 0.2, 0.5))
    assert json.loads(a["meta"]) == {"style": "acted"}
    # absolute paths outside the manifest folder move the root up to the common folder
    assert a["rel_path"] == "corpus/wavs/spk1/a01.wav"
    b = rows["my_id"]
    assert (b["label"], b["orig_label"], b["gender"], b["sample_rate"]) == ("anger", "ang", "male", 22_050)
    assert math.isnan(b["arousal"])
    e = rows["elsewhere"]
    assert (e["speaker"], e["gender"], e["language"], e["rel_path"]) == (
        "unknown",
        "unknown",
        "de",
        "outside/elsewhere.wav",
    )
    reasons = {s.path: s.reason for s in log.skipped}
    assert reasons == {
        "wavs/spk3/missing.wav": "missing file",
        "manifest.csv:line 7": "missing value for ['path']",
    }
    # grumpy was dropped because the map asked for it: counted outside the label set, not lost
    assert (log.found, log.used, log.excluded_by_label_set) == (6, 3, 1) and log.reconciles()


def test_unknown_labels_stop_the_load_before_any_audio(tmp_path, monkeypatch):
    root = _csv_tree(tmp_path / "corpus", tmp_path / "outside")
    with open(root / "manifest.csv", "a") as f:
        f.write("wavs/spk2/b01.wav,grumpy,spk2,,,,,,,,dup2,\n")
    read = []
    monkeypatch.setattr("hf_ser.corpora._headers.read_info", lambda path: read.append(path))
    with pytest.raises(UnknownLabelsError) as err:
        load_corpus("manifest", root)
    message = str(err.value)
    assert "'grumpy' (2 clips)" in message and "label_map: {grumpy: null}" in message and "\n" not in message
    assert read == []  # refused before a single header was read


@pytest.mark.parametrize(
    ("written", "canonical"),
    [("Happy", "happiness"), ("JOY", "happiness"), ("angry", "anger"), ("scared", "fear"), ("fea", "fear"),
     ("disgusted", "disgust"), ("surprised", "surprise"), ("excited", "excitement"), ("fru", "frustration"),
     ("bored", "boredom"), ("NEU", "neutral"), ("sad", "sadness"), ("hap", "happiness")],
)
def test_labels_as_people_write_them(tmp_path, written, canonical):
    write_wav(tmp_path / "a.wav", seconds=0.2)
    (tmp_path / "manifest.csv").write_text(f"path,label,speaker\na.wav,{written},p1\n")
    ds = load_manifest(tmp_path)
    assert (ds[0]["label"], ds[0]["orig_label"]) == (canonical, written)


def test_speakers_missing_refused_with_the_fix(tmp_path):
    write_wav(tmp_path / "a.wav", seconds=0.2)
    (tmp_path / "manifest.csv").write_text("path,label\na.wav,anger\n")
    with pytest.raises(CorpusLayoutError, match=r"options: \{speakers: unknown\}"):
        load_manifest(tmp_path)
    ds = load_manifest(tmp_path, speakers="unknown")
    assert ds[0]["speaker"] == "unknown"
    # a split column is enough: the predefined protocol needs no speakers
    (tmp_path / "manifest.csv").write_text("path,label,split\na.wav,anger,test\n")
    assert load_manifest(tmp_path)[0]["split"] == "test"


def test_jsonl_manifest_file_and_label_set(tmp_path):
    root = tmp_path / "c"
    write_wav(root / "x.wav", seconds=0.2)
    write_wav(root / "y.wav", seconds=0.2)
    write_wav(root / "z.wav", seconds=0.2)
    lines = [
        {"path": "x.wav", "label": "happiness", "speaker": "s1", "session": "S1", "valence": 3.5},
        {"path": "y.wav", "label": "exc", "speaker": "s2", "gender": "female"},
        {"path": "z.wav", "label": "boredom", "speaker": "s2"},
    ]
    (root / "manifest.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n\n")
    # a folder with manifest.jsonl, and the file itself, load the same
    for where in (root, root / "manifest.jsonl"):
        ds, log = load_corpus("manifest", where, label_set="4class", label_map={"exc": "excitement"})
        rows = {r["utt_id"]: r for r in ds}
        assert {k: r["label"] for k, r in rows.items()} == {"x": "happiness", "y": "happiness"}
        assert rows["y"]["orig_label"] == "exc" and rows["x"]["session"] == "S1"
        assert rows["x"]["valence"] == pytest.approx(3.5) and rows["x"]["rel_path"] == "x.wav"
        assert log.excluded_by_label_set == 1 and log.reconciles()


def test_tsv_and_corpus_name(tmp_path):
    write_wav(tmp_path / "a.wav", seconds=0.2)
    (tmp_path / "list.tsv").write_text("path\tlabel\tspeaker\na.wav\tfear\tp1\n")
    ds = load_manifest(tmp_path / "list.tsv", corpus_name="my_corpus")
    assert (ds[0]["corpus"], ds[0]["label"], ds[0]["speaker"]) == ("my_corpus", "fear", "p1")


def test_layout_errors(tmp_path):
    with pytest.raises(CorpusLayoutError, match="neither"):
        load_manifest(tmp_path)
    (tmp_path / "manifest.csv").write_text("path,speaker\na.wav,p1\n")
    with pytest.raises(CorpusLayoutError, match=r"lacks columns \['label'\]"):
        load_manifest(tmp_path)
    (tmp_path / "manifest.jsonl").write_text("")
    with pytest.raises(CorpusLayoutError, match="both"):
        load_manifest(tmp_path)
    with pytest.raises(CorpusLayoutError, match="does not exist"):
        load_manifest(tmp_path / "nowhere")


def test_info():
    assert INFO.name == "manifest" and "speaker_kfold" in INFO.protocols
