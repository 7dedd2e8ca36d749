"""Classification losses: soft targets (vote distributions) and focal loss reduce to the weighted cross-entropy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from tiny_models import ID2LABEL

from hf_ser.data.batching import ClipDataset, Collator
from hf_ser.models import build_model, classification_loss

LOGITS = torch.tensor([[2.0, 0.5, -1.0, 0.0], [0.1, 0.2, 0.3, 0.4], [-2.0, 3.0, 0.0, 1.0], [0.0, 0.0, 0.0, 5.0]])
IDS = torch.tensor([0, 3, 1, 2])
WEIGHT = torch.tensor([0.5, 2.0, 1.0, 3.0])


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("weighted", [False, True])
def test_soft_targets_on_unanimous_votes_equal_the_hard_loss(smoothing, weighted):
    weight = WEIGHT if weighted else None
    hard = F.cross_entropy(LOGITS, IDS, weight=weight, label_smoothing=smoothing)
    unanimous = F.one_hot(IDS, 4).float() * 7 / 7  # every rater voted for the hard label
    soft = classification_loss(LOGITS, unanimous, weight=weight, label_smoothing=smoothing)
    assert soft.item() == pytest.approx(hard.item(), rel=1e-6)


@pytest.mark.parametrize("targets", ["ids", "soft"])
def test_focal_loss_with_gamma_0_equals_weighted_cross_entropy(targets):
    expected = F.cross_entropy(LOGITS, IDS, weight=WEIGHT)
    labels = IDS if targets == "ids" else F.one_hot(IDS, 4).float()
    focal = classification_loss(LOGITS, labels, weight=WEIGHT, loss="focal", focal_gamma=0.0)
    assert focal.item() == pytest.approx(expected.item(), rel=1e-6)


def test_focal_loss_by_hand():
    logits = torch.tensor([[math.log(3.0), 0.0]])  # p = (0.75, 0.25)
    got = classification_loss(logits, torch.tensor([0]), loss="focal", focal_gamma=2.0)
    assert got.item() == pytest.approx((0.25**2) * -math.log(0.75), rel=1e-6)
    # Weighted focal on two rows: sum_i w_yi (1 - p)^g (-log p) / sum_i w_yi.
    logits = torch.tensor([[math.log(3.0), 0.0], [0.0, 0.0]])
    got = classification_loss(
        logits, torch.tensor([0, 1]), weight=torch.tensor([1.0, 3.0]), loss="focal", focal_gamma=1.0
    )
    expected = (1.0 * 0.25 * -math.log(0.75) + 3.0 * 0.5 * -math.log(0.5)) / 4.0
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_soft_cross_entropy_by_hand_and_ignored_rows():
    logits = torch.tensor([[0.0, 0.0, math.log(2.0)], [1.0, 2.0, 3.0]])  # p0 = (0.25, 0.25, 0.5)
    votes = torch.tensor([[0.5, 0.0, 0.5], [0.0, 0.0, 0.0]])  # second row: no target
    got = classification_loss(logits, votes)
    assert got.item() == pytest.approx(-(0.5 * math.log(0.25) + 0.5 * math.log(0.5)), rel=1e-6)
    ids = torch.tensor([2, -100])
    assert classification_loss(logits, ids, loss="focal", focal_gamma=0).item() == pytest.approx(-math.log(0.5))
    assert classification_loss(logits, torch.zeros(2, 3)).item() == 0.0


def test_soft_labels_flow_from_dataset_through_collator_into_the_model_loss():
    soft = np.array([[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]], dtype=np.float32)
    waves = [np.sin(np.arange(6400, dtype=np.float32) / (5 + i)) for i in range(2)]
    data = ClipDataset(lambda i: waves[i], [0, 3], soft=soft)
    batch = Collator()([data[0], data[1]])
    assert batch["labels"].dtype == torch.float32 and batch["labels"].tolist() == soft.tolist()
    model = build_model(backbone="shape:tiny", id2label=ID2LABEL, seed=0, loss="focal", focal_gamma=0.0)
    model.eval()
    inputs = {k: batch[k] for k in ("input_values", "attention_mask")}
    with torch.no_grad():
        out = model(**inputs, labels=batch["labels"])
        logits = model(**inputs).logits
    log_p = torch.log_softmax(logits, dim=-1)
    expected = -(torch.from_numpy(soft) * log_p).sum() / 2
    assert out.loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert model.config.loss == "focal" and model.config.focal_gamma == 0.0
