import numpy as np
import pytest

from hf_ser.augment import LeakageError, assert_no_leakage, build_augmentation


def test_donors_never_come_from_validation_or_test(rows_factory, cache_factory, wave_of):
    full = rows_factory(n_per_cell=2, splits=("train", "valid", "test"))
    cache = cache_factory(full)  # every clip aligned, so valid/test clips WOULD be eligible if reachable
    train_idx = [i for i, s in enumerate(full["split"]) if s == "train"]
    train = full.select(train_idx)
    requested = []

    def get_wave(i):  # what the trainer passes: row i of the TRAINING split, read from the full store
        requested.append(train_idx[i])
        return wave_of(train_idx[i])

    aug = build_augmentation(
        [
            {"name": "word_swap", "mode": "general", "k": 2, "statement": "any", "p": 1.0},
            {"name": "noise", "kind": "babble", "snr_db": [0, 10], "talkers": 4},
        ],
        train_rows=train,
        get_wave=get_wave,
        alignments=cache,
        seed=0,
    )
    swap = aug.steps[0].transform
    rng = np.random.default_rng(0)
    for draw in range(300):
        i = draw % len(train)
        aug(wave_of(train_idx[i]), i, rng)
        for key in swap.last_donors:
            assert key.split("/")[1].startswith("train-")
    splits_seen = {full[j]["split"] for j in requested}
    assert splits_seen == {"train"}
    assert len(set(requested)) > len(train) // 2  # many donors were drawn, all from train

    valid = full.filter(lambda r: r["split"] != "train")
    assert_no_leakage(train, valid)
    aug.assert_no_leakage(valid)
    with pytest.raises(LeakageError, match="clip keys"):
        assert_no_leakage(full, valid)
    with pytest.raises(LeakageError):
        aug.assert_no_leakage(train.select([0]))


def test_same_audio_under_another_id_is_leakage(rows_factory):
    rows = rows_factory(n_per_cell=1)
    other = rows.select([0]).map(lambda r: {"utt_id": "renamed"})
    with pytest.raises(LeakageError, match="1 audio paths"):
        assert_no_leakage(rows, other)
