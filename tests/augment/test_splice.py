import numpy as np

from hf_ser.augment.splice import RandomSplice

SR = 16_000


def three_words():
    t = np.arange(int(1.6 * SR)) / SR
    wave = np.zeros(t.size)
    for (a, b), f in zip([(0.1, 0.4), (0.6, 0.9), (1.1, 1.4)], [200, 330, 470]):
        m = (t >= a) & (t < b)
        wave[m] = 0.4 * np.sin(2 * np.pi * f * t[m])
    return wave.astype(np.float32)


def test_splice_reorders_pause_separated_pieces_and_keeps_length():
    wave = three_words()
    splice = RandomSplice()
    pieces = splice.pieces(wave)
    assert len(pieces) == 3
    orders = set()
    for seed in range(12):
        out = splice(wave, 0, np.random.default_rng(seed))
        assert len(out) == len(wave)
        # The output is the pieces in some order: find that order by matching the pieces in turn.
        pos, order = 0, []
        while pos < len(out):
            k = next(
                i
                for i, p in enumerate(pieces)
                if i not in order and np.array_equal(out[pos : pos + len(p)], p)
            )
            order.append(k)
            pos += len(pieces[k])
        orders.add(tuple(order))
    assert len(orders) > 1  # really shuffled, not always the same order


def test_splice_without_pause_returns_the_clip():
    wave = (0.3 * np.sin(2 * np.pi * 200 * np.arange(SR) / SR)).astype(np.float32)
    out = RandomSplice()(wave, 0, np.random.default_rng(0))
    np.testing.assert_array_equal(out, wave)
