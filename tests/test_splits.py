"""Fold protocols: exact published partitions, no speaker leakage, determinism, manifests."""

from __future__ import annotations

import json
from collections import Counter

import datasets
import pytest

from hf_ser import splits
from hf_ser.corpora._schema import FEATURES, NO_VOTES
from hf_ser.run_dir import write_manifests

_DEFAULTS = {
    "path": "",
    "orig_label": "",
    "gender": "unknown",
    "language": "en",
    "text": "",
    "session": "",
    "split": "",
    "valence": float("nan"),
    "arousal": float("nan"),
    "dominance": float("nan"),
    "duration_s": 1.0,
    "sample_rate": 16_000,
    "meta": "{}",
    **NO_VOTES,
}
LABELS = ("anger", "happiness", "neutral", "sadness")


def make_dataset(rows: list[dict]) -> datasets.Dataset:
    """Canonical-schema dataset from partial rows (utt_id, corpus, speaker, ... given by the test)."""
    full = [{**_DEFAULTS, "rel_path": f"{r['speaker']}/{r['utt_id']}.wav", **r} for r in rows]
    return datasets.Dataset.from_dict({k: [r[k] for r in full] for k in FEATURES}, features=FEATURES)


def corpus_rows(corpus: str, speakers: list[str], per_speaker: int = 4, **extra) -> list[dict]:
    return [
        {"utt_id": f"{spk}_{i}", "corpus": corpus, "speaker": spk, "label": LABELS[i % len(LABELS)], **extra}
        for spk in speakers
        for i in range(per_speaker)
    ]


RAVDESS = [f"{a:02d}" for a in range(1, 25)]
IEMOCAP = [f"Ses0{k}{g}" for k in range(1, 6) for g in "FM"]

# protocol -> (corpus, data speaker ids, expected test speakers per fold as corpus-local ids)
PUBLISHED = {
    "ravdess_luna5": (
        "ravdess",
        RAVDESS,
        [["02", "05", "14", "15", "16"], ["03", "06", "07", "13", "18"], ["10", "11", "12", "19", "20"],
         ["08", "17", "21", "23", "24"], ["01", "04", "09", "22"]],
    ),
    "ravdess_emobox6": (
        "ravdess",
        RAVDESS,
        [["01", "11", "20", "21"], ["04", "10", "12", "14"], ["08", "09", "19", "23"], ["03", "05", "07", "24"],
         ["02", "15", "16", "18"], ["06", "13", "17", "22"]],
    ),
    "iemocap_session_loso": ("iemocap", IEMOCAP, [[f"Ses0{k}F", f"Ses0{k}M"] for k in range(1, 6)]),
    "iemocap_speaker_loso": ("iemocap", IEMOCAP, [[s] for s in IEMOCAP]),
    "emodb_loso": ("emodb", ["03", "08", "09", "10", "11", "12", "13", "14", "15", "16"],
                   [[s] for s in ["03", "08", "09", "10", "11", "12", "13", "14", "15", "16"]]),
    "emovo_loso": ("emovo", ["f1", "f2", "f3", "m1", "m2", "m3"], [["f2"], ["m3"], ["m2"], ["f3"], ["f1"], ["m1"]]),
    "savee_loso": ("savee", ["DC", "JE", "JK", "KL"], [["JE"], ["KL"], ["DC"], ["JK"]]),
    # cafe_emobox, subesco_emobox, esd_emobox: EmoBox's clip lists, tested clip for clip in test_emobox_protocols.py
}


def _local(keys) -> list[str]:
    return sorted(k.split("/", 1)[1] for k in keys)


@pytest.mark.parametrize("protocol", sorted(PUBLISHED))
def test_published_protocol_partitions_speakers_exactly(protocol):
    corpus, speakers, expected = PUBLISHED[protocol]
    folds = splits.make_folds(make_dataset(corpus_rows(corpus, speakers)), protocol)
    got = [_local(f.test_speakers) for f in folds]
    assert got == [sorted(e) for e in expected]
    assert [f.index for f in folds] == list(range(len(expected)))
    flat = [s for fold in folds for s in fold.test_speakers]
    assert len(flat) == len(set(flat)) == len(speakers)  # every speaker tested exactly once


def test_luna5_fold_sizes_and_clip_counts():
    ds = make_dataset(corpus_rows("ravdess", [str(a) for a in range(1, 25)], per_speaker=60))  # ids without zeros
    folds = splits.make_folds(ds, "ravdess_luna5")
    assert [len(f.test_speakers) for f in folds] == [5, 5, 5, 5, 4]
    assert [len(splits.split_fold(ds, f).test) for f in folds] == [300, 300, 300, 300, 240]


def test_iemocap_session_fold_k_tests_session_k_from_session_column():
    rows = corpus_rows("iemocap", IEMOCAP)
    for r in rows:
        r["session"] = r["speaker"][:5]
    ds = make_dataset(rows)
    for k, fold in enumerate(splits.make_folds(ds, "iemocap_session_loso")):
        split = splits.split_fold(ds, fold)
        assert {ds[i]["session"] for i in split.test} == {f"Ses0{k + 1}"}
        assert not {ds[i]["session"] for i in split.train + split.valid} & {f"Ses0{k + 1}"}


def test_iemocap_speaker_loso_validates_on_the_session_partner():
    ds = make_dataset(corpus_rows("iemocap", IEMOCAP))
    folds = splits.make_folds(ds, "iemocap_speaker_loso")
    assert len(folds) == 10
    assert folds[0].valid_speakers == ("iemocap/Ses01M",)
    split = splits.split_fold(ds, folds[3])  # Ses02M
    assert split.test_speakers == ("iemocap/Ses02M",) and split.valid_speakers == ("iemocap/Ses02F",)
    assert len(split.train_speakers) == 8


CREMA_TEST = "1010 1013 1022 1026 1037 1038 1040 1045 1047 1048 1059 1065 1066 1068 1071 1073 1084 1086 1088".split()
CREMA_VALID = "1015 1020 1021 1030 1050 1070 1079 1089 1090".split()


def _crema_rows() -> list[dict]:
    rows = []
    for actor in range(1001, 1092):
        # 43 female / 48 male as in VideoDemographics.csv (the exact assignment does not matter here).
        gender = "female" if actor % 91 < 43 else "male"
        rows += corpus_rows("crema_d", [str(actor)], per_speaker=2, gender=gender)
    return rows


def test_crema_d_tfds_fixed_test_and_validation_speakers():
    ds = make_dataset(_crema_rows())
    (fold,) = splits.make_folds(ds, "crema_d_tfds")
    split = splits.split_fold(ds, fold)
    assert _local(split.test_speakers) == CREMA_TEST
    assert _local(split.valid_speakers) == CREMA_VALID
    assert len(split.train_speakers) == 63


def test_crema_d_speaker5_is_gender_balanced_and_deterministic():
    ds = make_dataset(_crema_rows())
    folds = splits.make_folds(ds, "crema_d_speaker5")
    assert folds == splits.make_folds(ds, "crema_d_speaker5", seed=123)  # no randomness at all
    gender = {f"crema_d/{r['speaker']}": r["gender"] for r in ds}
    assert sorted(len(f.test_speakers) for f in folds) == [18, 18, 18, 18, 19]
    for g in ("female", "male"):
        counts = [sum(gender[s] == g for s in f.test_speakers) for f in folds]
        assert max(counts) - min(counts) <= 1
    assert sorted(s for f in folds for s in f.test_speakers) == sorted(gender)


def test_msp_podcast_official_uses_split_column_and_accepts_both_dev_names():
    rows = []
    for split, spk in [("Train", "1"), ("Train", "Unknown"), ("Development", "2"), ("Validation", "3"),
                       ("Test1", "4"), ("Test1", "Unknown"), ("Test2", "5")]:
        rows += corpus_rows("msp_podcast", [spk], per_speaker=2, split=split)
        for r in rows[-2:]:
            r["utt_id"] = f"{split}_{spk}_{r['utt_id']}"
    ds = make_dataset(rows)
    (fold,) = splits.make_folds(ds, "msp_podcast_official")
    split = splits.split_fold(ds, fold)
    assert {ds[i]["split"] for i in split.test} == {"Test1"}
    assert {ds[i]["split"] for i in split.valid} == {"Development", "Validation"}
    assert {ds[i]["split"] for i in split.train} == {"Train"}  # Test2 is left out
    assert split.speaker_independent  # "Unknown" on two sides is not a leak


def test_speaker_kfold_mixed_corpora_keeps_same_ids_apart_and_is_seeded():
    rows = corpus_rows("ravdess", RAVDESS[:10]) + corpus_rows("emodb", RAVDESS[:10])
    ds = make_dataset(rows)
    folds = splits.make_folds(ds, "speaker_kfold", num_folds=5, seed=1)
    keys = [k for f in folds for k in f.test_speakers]
    assert len(keys) == len(set(keys)) == 20  # "01" of two corpora are two speakers
    assert all({k.split("/")[0] for k in f.test_speakers} == {"ravdess", "emodb"} for f in folds)
    assert folds == splits.make_folds(ds, "speaker_kfold", num_folds=5, seed=1)
    assert folds != splits.make_folds(ds, "speaker_kfold", num_folds=5, seed=2)
    for fold in folds:
        split = splits.split_fold(ds, fold)
        assert not set(split.train_speakers) & set(split.test_speakers)


def test_holdout_speakers_fraction_and_explicit_list():
    ds = make_dataset(corpus_rows("ravdess", RAVDESS))
    (fold,) = splits.make_folds(ds, "holdout_speakers", test_fraction=0.25, seed=3)
    assert len(fold.test_speakers) == 6
    (fold,) = splits.make_folds(ds, "holdout_speakers", test_speakers=["03", "ravdess/04"], valid_speakers=["05"])
    assert fold.test_speakers == ("ravdess/03", "ravdess/04") and fold.valid_speakers == ("ravdess/05",)
    with pytest.raises(splits.MissingSpeakersError):
        splits.make_folds(ds, "holdout_speakers", test_speakers=["99"])


def test_stratified_random_is_speaker_dependent_and_takes_a_quarter_per_label():
    ds = make_dataset(corpus_rows("crema_d", [str(a) for a in range(1001, 1011)], per_speaker=10))
    (fold,) = splits.make_folds(ds, "stratified_random")
    split = splits.split_fold(ds, fold)
    assert not split.speaker_independent and not fold.speaker_independent
    labels = Counter(ds[i]["label"] for i in split.test)
    total = Counter(ds["label"])
    assert labels == {lab: int(0.25 * n) for lab, n in total.items()}
    assert set(split.train_speakers) & set(split.test_speakers)  # allowed, and reported as speaker-dependent


@pytest.mark.parametrize("protocol", sorted(PUBLISHED))
def test_no_speaker_crosses_sides_in_any_fold(protocol):
    corpus, speakers, _ = PUBLISHED[protocol]
    ds = make_dataset(corpus_rows(corpus, speakers))
    for fold in splits.make_folds(ds, protocol):
        split = splits.split_fold(ds, fold, valid_fraction=0.2, seed=0)
        sides = [set(split.train_speakers), set(split.valid_speakers), set(split.test_speakers)]
        assert all(sides), "every side has speakers"
        assert not (sides[0] & sides[1] or sides[0] & sides[2] or sides[1] & sides[2])
        assert sorted(split.train + split.valid + split.test) == list(range(len(ds)))


def test_leak_is_refused_unless_speaker_dependent():
    ds = make_dataset(corpus_rows("ravdess", ["01", "02", "03"]))
    # A clip fold putting one of speaker 01's clips in test and the rest in train.
    fold = splits.Fold(0, ("ravdess/01",), protocol="handmade", test_clips=("ravdess/01_0",),
                       valid_clips=("ravdess/03_0",))
    with pytest.raises(splits.SpeakerLeakError, match="ravdess/01"):
        splits.split_fold(ds, fold)
    split = splits.split_fold(ds, fold, speaker_independent=False)
    assert split.test == [0] and not split.speaker_independent


def test_valid_draw_takes_at_least_one_training_speaker():
    ds = make_dataset(corpus_rows("savee", ["DC", "JE", "JK", "KL"]))
    fold = splits.make_folds(ds, "savee_loso")[0]
    split = splits.split_fold(ds, fold, valid_fraction=0.01)
    assert len(split.valid_speakers) == 1 and len(split.train_speakers) == 2
    assert splits.split_fold(ds, fold, valid_fraction=0.0).valid == []


def test_missing_speakers_raise_unless_not_strict():
    ds = make_dataset(corpus_rows("ravdess", ["01", "04", "09", "02"]))  # actors of luna5 folds 4 and 0 only
    with pytest.raises(splits.MissingSpeakersError, match="absent"):
        splits.make_folds(ds, "ravdess_luna5")
    folds = splits.make_folds(ds, "ravdess_luna5", strict=False)
    assert [f.index for f in folds] == [0, 4]
    assert _local(folds[1].test_speakers) == ["01", "04", "09"]


def test_bad_names_and_corpus_mismatch_fail_clearly():
    ds = make_dataset(corpus_rows("emodb", ["03", "08"]))
    with pytest.raises(KeyError, match="ravdess_luna5"):
        splits.make_folds(ds, "luna")
    with pytest.raises(ValueError, match="corpus 'ravdess'"):
        splits.make_folds(ds, "ravdess_luna5")
    with pytest.raises(TypeError, match="test_fraction"):
        splits.make_folds(ds, "speaker_kfold", test_fraction=0.3)
    with pytest.raises(ValueError, match="num_folds"):
        splits.make_folds(make_dataset(corpus_rows("savee", ["DC", "JE", "JK", "KL"])), "savee_loso", num_folds=5)


def test_every_protocol_is_documented():
    for name, p in splits.PROTOCOLS.items():
        assert p.name == name and p.description and p.source
    assert not splits.PROTOCOLS["stratified_random"].speaker_independent
    assert set(splits.protocols_for("ravdess")) == {"ravdess_luna5", "ravdess_emobox6", "ravdess_emobox"}
    assert "EmoBox" not in splits.PROTOCOLS["stratified_random"].source.split("(")[0]  # a rule, not EmoBox's clips


def test_manifests_are_relative_deterministic_and_summarised(tmp_path):
    rows = corpus_rows("ravdess", RAVDESS)
    for r in rows:
        r["path"] = f"/somewhere/corpora/RAVDESS/{r['speaker']}/{r['utt_id']}.wav"
    ds = make_dataset(rows)
    fold = splits.make_folds(ds, "ravdess_luna5")[2]
    first = write_manifests(ds, splits.split_fold(ds, fold, seed=7), tmp_path / "a")
    second = write_manifests(ds, splits.split_fold(ds, fold, seed=7), tmp_path / "b")
    for name in ("train", "valid", "test", "split"):
        assert first[name].read_bytes() == second[name].read_bytes()
    lines = [json.loads(line) for line in first["test"].read_text().splitlines()]
    assert list(lines[0]) == ["utt_id", "corpus", "rel_path", "speaker", "label", "orig_label", "language"]
    assert {r["speaker"] for r in lines} == {"10", "11", "12", "19", "20"}
    assert "/somewhere" not in first["train"].read_text()
    summary = json.loads(first["split"].read_text())
    assert summary["protocol"] == "ravdess_luna5" and summary["fold"] == 2 and summary["speaker_independent"]
    # 19 training speakers -> round(0.2 * 19) = 4 drawn as validation; 4 clips each.
    assert summary["counts"] == {"train": 60, "valid": 16, "test": 20}
    assert summary["speakers"]["test"] == [f"ravdess/{s}" for s in ("10", "11", "12", "19", "20")]


def test_holdout_and_validation_draws_balance_genders():
    rows = [
        {**r, "gender": "male" if int(r["speaker"]) % 2 else "female"}
        for r in corpus_rows("ravdess", [f"{a:02d}" for a in range(1, 13)])
    ]
    ds = make_dataset(rows)
    gender = {f"ravdess/{r['speaker']}": r["gender"] for r in rows}
    for seed in range(10):
        (fold,) = splits.make_folds(ds, "holdout_speakers", test_fraction=0.17, seed=seed)
        assert sorted(gender[k] for k in fold.test_speakers) == ["female", "male"]
        split = splits.split_fold(ds, fold, valid_fraction=0.2, seed=seed)
        assert sorted(gender[k] for k in split.valid_speakers) == ["female", "male"]


def _with_splits(speakers_splits: list[tuple[str, str]], per_speaker: int = 4) -> datasets.Dataset:
    rows = []
    for spk, split in speakers_splits:
        rows += [{**r, "utt_id": f"{split}_{r['utt_id']}"} for r in corpus_rows("manifest", [spk], per_speaker, split=split)]
    return make_dataset(rows)


def test_predefined_uses_the_split_column_and_counts_shared_speakers():
    # s1 trains, s2 validates ("dev"), s3 tests, and s1 also has clips marked test: one shared speaker
    data = _with_splits([("s1", "train"), ("s2", "dev"), ("s3", "TEST")])
    data = datasets.concatenate_datasets([data, _with_splits([("s1", "test")], per_speaker=2)])
    (fold,) = splits.make_folds(data, "predefined")
    split = splits.split_fold(data, fold, valid_fraction=0.2)
    sides = {side: Counter(data[i]["split"] for i in getattr(split, side)) for side in ("train", "valid", "test")}
    assert sides == {"train": Counter(train=4), "valid": Counter(dev=4), "test": Counter(TEST=4, test=2)}
    assert splits.speaker_sharing(split) == "speaker-dependent split (speakers shared: 1)"
    clean = _with_splits([("s1", "train"), ("s2", "valid"), ("s3", "test")])
    clean_split = splits.split_fold(clean, splits.make_folds(clean, "predefined")[0])
    assert splits.speaker_sharing(clean_split) == "speaker-independent split (no speaker shared)"
    unknown = _with_splits([("unknown", "train"), ("unknown", "test")], per_speaker=8)
    unknown_split = splits.split_fold(unknown, splits.make_folds(unknown, "predefined")[0], valid_fraction=0.5)
    assert splits.speaker_sharing(unknown_split) == "speakers unknown" and len(unknown_split.valid) == 4


def test_predefined_refuses_unknown_or_missing_splits():
    with pytest.raises(splits.PredefinedSplitError, match=r"'holdout' \(4 clips\)"):
        splits.make_folds(_with_splits([("s1", "train"), ("s2", "holdout")]), "predefined")
    with pytest.raises(splits.PredefinedSplitError, match="no clip has split test"):
        splits.make_folds(_with_splits([("s1", "train"), ("s2", "valid")]), "predefined")
