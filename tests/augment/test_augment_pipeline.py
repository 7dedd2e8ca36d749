import numpy as np
import pytest

from hf_ser.augment import AUGMENTATIONS, build_augmentation

SPECS = [
    {"name": "word_swap", "mode": "ravdess", "p": 0.5},
    {"name": "speed", "factors": [0.81, 1.0, 1.23]},
    {"name": "noise", "snr_db": [10, 30], "kind": "babble", "p": 0.5},
    {"name": "splice", "p": 0.3},
]


def _build(rows, cache, wave_of, specs=SPECS, seed=0):
    return build_augmentation(specs, train_rows=rows, get_wave=wave_of, alignments=cache, seed=seed)


def test_registry_names_and_unknown_name_lists_them(rows_factory, cache_factory, wave_of):
    assert set(AUGMENTATIONS) == {"word_swap", "speed", "noise", "splice"}
    rows = rows_factory(n_per_cell=1)
    with pytest.raises(KeyError, match=r"'noise', 'speed', 'splice', 'word_swap'"):
        _build(rows, None, wave_of, specs=[{"name": "reverb"}])


def test_bad_specs_fail_at_build_time(rows_factory, cache_factory, wave_of):
    rows = rows_factory(n_per_cell=1)
    cache = cache_factory(rows)
    with pytest.raises(ValueError, match="first"):
        _build(rows, cache, wave_of, specs=[{"name": "speed"}, {"name": "word_swap"}])
    with pytest.raises(ValueError, match="alignments"):
        _build(rows, None, wave_of, specs=[{"name": "word_swap"}])
    with pytest.raises(ValueError, match="p must be"):
        _build(rows, cache, wave_of, specs=[{"name": "speed", "p": 1.5}])
    with pytest.raises(ValueError, match="bad options"):
        _build(rows, cache, wave_of, specs=[{"name": "speed", "factor": 1.1}])


def test_augmented_batches_reproducible_from_seed(rows_factory, cache_factory, wave_of):
    rows = rows_factory()
    cache = cache_factory(rows)
    batch = list(range(0, len(rows), 3))

    def run(seed, epoch):
        aug = _build(rows, cache, wave_of, seed=seed)
        return [aug(wave_of(i), i, aug.item_rng(epoch, i)) for i in batch]

    first, again, other_epoch = run(0, 1), run(0, 1), run(0, 2)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert any(len(a) != len(c) or not np.array_equal(a, c) for a, c in zip(first, other_epoch))
    # Order independence: an item's result does not depend on which items were augmented before it.
    aug = _build(rows, cache, wave_of, seed=0)
    reversed_out = {i: aug(wave_of(i), i, aug.item_rng(1, i)) for i in reversed(batch)}
    assert all(np.array_equal(reversed_out[i], a) for i, a in zip(batch, first))


def test_steps_run_in_order_with_their_probability(rows_factory, cache_factory, wave_of):
    rows = rows_factory()
    cache = cache_factory(rows)
    aug = _build(
        rows,
        cache,
        wave_of,
        specs=[{"name": "speed", "factors": [1.23], "p": 0.25}, {"name": "noise", "snr_db": 20}],
    )
    n = 400
    lengths = [len(aug(wave_of(0), 0, aug.item_rng(e, 0))) for e in range(n)]
    assert aug.counts["noise"] == n
    assert 0.18 < aug.counts["speed"] / n < 0.32
    assert sum(length != len(wave_of(0)) for length in lengths) == aug.counts["speed"]
    report = aug.report()
    assert report["applied"] == {"speed": aug.counts["speed"], "noise": n}


def test_index_outside_training_rows_is_refused(rows_factory, wave_of):
    rows = rows_factory(n_per_cell=1)
    aug = _build(rows, None, wave_of, specs=[{"name": "speed"}])
    with pytest.raises(IndexError):
        aug(wave_of(0), len(rows), np.random.default_rng(0))
