"""`<corpus>_emobox` protocols reproduce EmoBox's published folds clip for clip.

For every stored corpus a fixture tree is generated FROM the stored lists (EmoBox's own relative paths, one-sample
WAVs, plus the metadata files the loader needs), loaded with the real loader, and split with the protocol; each
fold's sides must be exactly EmoBox's files. This checks the loaders keep every listed file, the ids match, and
the speaker-dependence flag tells the truth.
"""

from __future__ import annotations

import pytest

from hf_ser import emobox, splits
from hf_ser.corpora import load_corpus

# ESD's 35,000 files take a minute to write and read: run with the slow tests.
LARGE = {"esd"}
# Speaker-level protocols that claim EmoBox's (or an identical) partition: their test sides must be the same clips.
SAME_TEST = {"ravdess": "ravdess_emobox6", "emovo": "emovo_loso", "savee": "savee_loso", "iemocap": "iemocap_session_loso"}
CORPORA = [pytest.param(c, marks=pytest.mark.slow) if c in LARGE else c for c in sorted(emobox.index())]


@pytest.mark.parametrize("corpus", CORPORA)
def test_emobox_protocol_folds_equal_the_published_lists(tmp_path, corpus):
    info = emobox.index()[corpus]
    root = emobox.write_fixture_tree(corpus, tmp_path / corpus)
    ds, log = load_corpus(corpus, root, label_set=info.label_set, label_map=info.label_map)
    assert log.reconciles()
    # Every listed file is kept, except the ones the loader drops on purpose (CREMA-D's silent clip), reported.
    assert {s.path.rsplit("/", 1)[-1].rsplit(".", 1)[0] for s in log.skipped} == set(info.expected_absent)
    assert log.excluded_by_label_set == 0
    assert len(ds) == info.clips - len(info.expected_absent)
    assert len(set(ds["label"])) == len(info.classes)

    folds = splits.make_folds(ds, f"{corpus}_emobox")
    assert [f.index for f in folds] == list(range(info.num_folds))
    by_path = {}
    for c in emobox.clips(corpus):
        for k, side in enumerate(c.sides):
            by_path.setdefault((k, emobox.SIDES[side]), set()).add(c.path)
    absent = set(info.expected_absent)
    shared_speakers = False
    rel_paths = ds["rel_path"]
    for fold in folds:
        split = splits.split_fold(ds, fold, valid_fraction=0)
        for side in ("train", "valid", "test"):
            got = {rel_paths[i] for i in getattr(split, side)}
            want = {p for p in by_path.get((fold.index, side), set()) if p.rsplit("/", 1)[-1][:-4] not in absent}
            assert got == want, f"{corpus} fold {fold.index} {side}: {len(got ^ want)} clips differ"
        assert split.speaker_independent == (not info.speaker_dependent)
        shared_speakers |= bool(set(split.test_speakers) & set(split.train_speakers))
    assert shared_speakers == info.speaker_dependent
    if corpus in SAME_TEST:
        twins = splits.make_folds(ds, SAME_TEST[corpus])
        assert len(twins) == info.num_folds
        for twin in twins:
            got = {rel_paths[i] for i in splits.split_fold(ds, twin, valid_fraction=0).test}
            assert got == by_path[(twin.index, "test")], f"{SAME_TEST[corpus]} fold {twin.index}"
    assert splits.PROTOCOLS[f"{corpus}_emobox"].speaker_independent == (not info.speaker_dependent)


def test_speaker_dependent_corpora_are_declared_so():
    dependent = {c for c, info in emobox.index().items() if info.speaker_dependent}
    # EmoBox's EMO-DB folds (5, all 10 speakers on both sides) and its single-fold corpora.
    assert dependent == {"aesdd", "crema_d", "emodb", "emov_db", "emozionalmente", "mesd", "shemo", "tess", "urdu"}
    assert emobox.index()["emodb"].num_folds == 5


def test_strict_refuses_a_partial_corpus_and_names_the_fix(tmp_path):
    info = emobox.index()["emodb"]
    entries = [(c.path, c.label) for c in emobox.clips("emodb")][::10]
    root = emobox.write_fixture_tree("emodb", tmp_path / "emodb", entries)
    ds, _ = load_corpus("emodb", root, label_set=info.label_set)
    with pytest.raises(splits.MissingClipsError, match="strict=False"):
        splits.make_folds(ds, "emodb_emobox")
    folds = splits.make_folds(ds, "emodb_emobox", strict=False)
    assert sum(len(f.test_clips) for f in folds) == len(entries)  # each clip tests in exactly one EmoDB fold


def test_iemocap_scores_excitement_as_happiness_like_emobox():
    info = emobox.index()["iemocap"]
    assert info.label_map == {"excitement": "happiness"}
    assert info.label_set == ["anger", "happiness", "neutral", "sadness"]


def test_stored_lists_carry_their_source_and_stay_small():
    info = emobox.index()["ravdess"]
    assert info.source == "github.com/emo-box/EmoBox" and len(info.commit) == 40
    assert all(f.startswith("data/ravdess/fold_") for f in info.files)
    total = sum(p.stat().st_size for p in emobox.DATA_DIR.iterdir())
    assert total < 1_000_000


def test_crema_d_tfds_exact_reproduces_tfds_clip_counts(tmp_path):
    # All 7442 distributed CREMA-D names (EmoBox lists every one of them).
    root = emobox.write_fixture_tree("crema_d", tmp_path / "cremad")
    ds, log = load_corpus("crema_d", root)
    assert len(ds) == 7441  # 1076_MTI_SAD_XX is silent and always skipped
    speaker_level = splits.split_fold(ds, splits.make_folds(ds, "crema_d_tfds")[0])
    exact = splits.split_fold(ds, splits.make_folds(ds, "crema_d_tfds_exact")[0])
    assert (len(speaker_level.train), len(speaker_level.test)) == (5145, 1558)
    # TFDS: test 1556, train 5144 (which holds the silent clip hf_ser never uses).
    assert (len(exact.train), len(exact.test)) == (5143, 1556)
    assert exact.valid == speaker_level.valid
    ids = ds["utt_id"]
    gone = {ids[i] for i in speaker_level.train + speaker_level.test} - {ids[i] for i in exact.train + exact.test}
    assert gone == {"1006_TIE_NEU_XX", "1017_IWW_FEA_XX", "1013_WSI_DIS_XX", "1040_ITH_SAD_XX"}
    assert exact.test_speakers == speaker_level.test_speakers and exact.speaker_independent
