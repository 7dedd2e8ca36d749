"""One model-option list: recipe ``ModelConfig`` fields reach the builders by name, and the builders reach the
saved configs (``SerConfig`` / ``BaselineConfig``); a builder parameter without a recipe field fails here."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path

import pytest

from hf_ser.config import ModelConfig, load_recipe
from hf_ser.model_kinds import FROM_TRAINER, MODEL_KINDS, TRAINER_FIELDS, build_model_of_kind, builder_of

DEMO = Path(__file__).parents[1] / "recipes" / "demo" / "ravdess_tiny.yaml"
FIELDS = {f.name for f in dataclasses.fields(ModelConfig)}


def _keyword_parameters(fn) -> set[str]:
    return {n for n, p in inspect.signature(fn).parameters.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


@pytest.mark.parametrize("kind", sorted(MODEL_KINDS))
def test_every_builder_parameter_is_a_recipe_field(kind):
    params = _keyword_parameters(builder_of(kind)) - set(FROM_TRAINER)
    missing = sorted(params - FIELDS)
    assert not missing, f"builder of {kind!r} takes {missing}, which no recipe can set: add them to ModelConfig"


def test_every_recipe_field_reaches_a_builder():
    taken = set().union(*(_keyword_parameters(builder_of(kind)) for kind in MODEL_KINDS))
    assert not sorted(FIELDS - taken - set(TRAINER_FIELDS)), "ModelConfig fields no builder takes"
    assert not set(TRAINER_FIELDS) & taken, "a field both the trainer and a builder read"


def test_build_model_parameters_reach_ser_config_by_name():
    from hf_ser.models import SerConfig, build_model
    from hf_ser.models.builder import BACKBONE_OPTIONS, SER_CONFIG_NAMES

    config_params = _keyword_parameters(SerConfig.__init__)
    for name in _keyword_parameters(build_model) - {*BACKBONE_OPTIONS, "id2label", "seed"}:
        assert SER_CONFIG_NAMES.get(name, name) in config_params, f"build_model({name}=...) has no SerConfig field"


def test_recipe_values_arrive_in_the_saved_config():
    cfg = load_recipe(
        DEMO,
        [
            "model.task=multitask", "model.dims=[valence, arousal]", "model.regression_loss_weight=0.25",
            "model.label_smoothing=0.1", "model.dropout=0.3", "model.head_hidden_size=8",
            "model.pooling=attention", "model.pooling_kwargs={num_heads: 2}", "model.mask_time_prob=0.0",
        ],
    )
    model = build_model_of_kind(cfg.model, id2label={0: "anger", 1: "sadness"}, dims=("valence", "arousal"), class_weights=None, seed=0)
    c = model.config
    assert c.regression_loss_weight == 0.25 and c.label_smoothing == pytest.approx(0.1)
    assert c.classifier_dropout == pytest.approx(0.3) and c.head_hidden_size == 8
    assert c.pooling == "attention" and c.pooling_kwargs == {"num_heads": 2}
    assert c.backbone_config.mask_time_prob == 0.0


def test_baseline_takes_the_same_fields():
    cfg = load_recipe(DEMO, ["model.kind=issa_mlp", "model.task=multitask", "model.dims=[valence]", "model.regression_loss_weight=2.0",
                             "model.options={hidden_sizes: [8], feature_cache_dir: none}"])
    model = build_model_of_kind(cfg.model, id2label={0: "anger", 1: "sadness"}, dims=("valence",), class_weights=None, seed=0)
    assert model.config.regression_loss_weight == 2.0 and model.config.kind == "issa_mlp"


def test_build_baseline_parameters_reach_baseline_config_by_name():
    from hf_ser.baselines import BASELINE_CONFIG_NAMES, BaselineConfig, build_baseline

    config_params = _keyword_parameters(BaselineConfig.__init__)
    for name in _keyword_parameters(build_baseline) - {"id2label", "seed"}:
        assert BASELINE_CONFIG_NAMES.get(name, name) in config_params, f"build_baseline({name}=...) has no BaselineConfig field"
