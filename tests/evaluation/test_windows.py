"""The windowing rule of hf_ser.evaluation.inference, and the per-clip mean of window logits."""

import numpy as np
import pytest

from hf_ser.evaluation.inference import clip_means, clip_windows, window_seconds


@pytest.mark.parametrize("n", [1, 9, 10, 11, 23, 25, 1000])
def test_windows_cover_the_clip_with_half_overlap(n):
    windows = clip_windows(n, 10)
    if n <= 10:
        assert windows == [(0, n)]  # a clip up to the window is scored whole
        return
    assert all(e - s == 10 for s, e in windows)
    assert windows[0][0] == 0 and windows[-1][1] == n  # the last window ends at the clip's end
    gaps = np.diff([s for s, _ in windows])
    assert (gaps[:-1] == 5).all() and 0 < gaps[-1] <= 5  # every half window; the end-aligned last one closer
    covered = np.zeros(n, bool)
    for s, e in windows:
        covered[s:e] = True
    assert covered.all()


def test_clip_logits_are_the_mean_of_their_windows_and_duplicates_count_once():
    index = np.array([0, 0, 1, 0, 1])  # the last window (id 1) was gathered twice (uneven DDP shards)
    window = np.array([0, 1, 2, 3, 1])
    values = np.array([[1.0, 0.0], [3.0, 2.0], [5.0, 5.0], [2.0, 4.0], [3.0, 2.0]])
    clips, means = clip_means(index, window, values)
    assert clips.tolist() == [0, 1]
    np.testing.assert_allclose(means, [[2.0, 2.0], [5.0, 5.0]])


def test_window_comes_from_the_model_config_unless_overridden():
    class Config:
        inference_window_s = 1.5

    assert window_seconds(Config()) == 1.5
    assert window_seconds(Config(), 4.0) == 4.0
    assert window_seconds(object()) == 20.0
    with pytest.raises(ValueError, match="positive"):
        window_seconds(Config(), -1.0)
