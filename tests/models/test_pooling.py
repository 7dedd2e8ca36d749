import pytest
import torch

from hf_ser.models.pooling import POOLING, build_pooling

HIDDEN = 8


def _head(name: str) -> torch.nn.Module:
    torch.manual_seed(0)
    kwargs = {"num_heads": 2} if name == "attention" else {}
    return build_pooling(name, HIDDEN, **kwargs).eval()


@pytest.mark.parametrize("name", sorted(POOLING))
def test_output_shape_matches_output_size(name):
    head = _head(name)
    hidden = torch.randn(3, 11, HIDDEN)
    mask = torch.ones(3, 11, dtype=torch.bool)
    out = head(hidden, mask)
    assert out.shape == (3, head.output_size)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", sorted(POOLING))
def test_padding_never_changes_the_output(name):
    head = _head(name)
    clip = torch.randn(1, 7, HIDDEN)
    other = torch.randn(1, 12, HIDDEN)
    # pad with large values: a head that reads padding cannot hide it
    padded = torch.cat([torch.cat([clip, torch.full((1, 5, HIDDEN), 1e3)], dim=1), other], dim=0)
    mask = torch.zeros(2, 12, dtype=torch.bool)
    mask[0, :7] = True
    mask[1] = True
    alone = head(clip, torch.ones(1, 7, dtype=torch.bool))
    in_batch = head(padded, mask)
    torch.testing.assert_close(in_batch[:1], alone, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(in_batch[1:], head(other, torch.ones(1, 12, dtype=torch.bool)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", sorted(POOLING))
def test_masking_is_out_of_place(name):
    head = _head(name)
    hidden = torch.randn(2, 6, HIDDEN)
    before = hidden.clone()
    mask = torch.tensor([[True] * 6, [True] * 3 + [False] * 3])
    head(hidden, mask)
    assert torch.equal(hidden, before)


@pytest.mark.parametrize("name", sorted(POOLING))
def test_gradients_reach_real_frames_only(name):
    head = _head(name)
    hidden = torch.randn(1, 6, HIDDEN, requires_grad=True)
    mask = torch.tensor([[True] * 4 + [False] * 2])
    head(hidden, mask).sum().backward()
    assert hidden.grad[0, 4:].abs().max() == 0
    assert hidden.grad[0, :4].abs().max() > 0


def test_mean_and_stats_values():
    hidden = torch.tensor([[[1.0], [3.0], [100.0]]])
    mask = torch.tensor([[True, True, False]])
    assert build_pooling("mean", 1)(hidden, mask).item() == pytest.approx(2.0)
    stats = build_pooling("stats", 1, eps=0.0)(hidden, mask)
    assert stats[0].tolist() == pytest.approx([2.0, 1.0])
    assert build_pooling("max", 1)(hidden, mask).item() == pytest.approx(3.0)


def test_attention_heads_widen_output():
    assert build_pooling("attention", HIDDEN, num_heads=3).output_size == 3 * HIDDEN


def test_unknown_pooling_lists_valid_names():
    with pytest.raises(KeyError, match="attention.*bilstm.*mean"):
        build_pooling("avg", HIDDEN)
