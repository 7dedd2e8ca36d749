"""A target corpus must never be validation data."""

import pytest

from hf_ser.evaluation import CrossCorpusLeakError, check_not_validation


def test_target_used_as_validation_is_refused():
    with pytest.raises(CrossCorpusLeakError, match="crema_d"):
        check_not_validation({"crema_d"}, {"ravdess", "crema_d"})


def test_disjoint_sets_pass():
    assert check_not_validation({"crema_d"}, {"ravdess", "emodb"}) is None
    assert check_not_validation(set(), {"ravdess"}) is None
