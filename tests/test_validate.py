"""validate_recipe: every registry name, option dict and number checked at load, before any audio is decoded."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest

from hf_ser.config import RecipeError, load_recipe
from hf_ser.recipe_schema import bounds, fields, is_numeric, recipe_json_schema

DEMO = Path(__file__).parents[1] / "recipes" / "demo" / "ravdess_tiny.yaml"


def _refused(overrides: list[str], *fragments: str) -> str:
    with pytest.raises(RecipeError) as info:
        load_recipe(DEMO, overrides)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


SCHEMA = recipe_json_schema()
NUMERIC = {key: prop for _, key, prop in fields(SCHEMA) if is_numeric(prop) and "[]" not in key}


def test_every_numeric_recipe_key_has_a_range():
    """A number without a range lets a typo (``epochs: -1``) through to the training run."""
    missing = sorted(key for key, prop in NUMERIC.items() if not bounds(prop))
    assert not missing, f"numeric recipe keys without a range (Annotated[..., Field(ge=...)]) in hf_ser/config.py: {missing}"


def _outside(prop: dict) -> list[typing.Any]:
    """Values just outside a numeric property's range (an int field gets ints)."""
    options = [prop, *prop.get("anyOf", [])]
    is_int = not any(o.get("type") == "number" for o in options)
    values = []
    for o in options:
        if "exclusiveMinimum" in o:
            values.append(o["exclusiveMinimum"])
        if "minimum" in o:
            values.append(o["minimum"] - 1)
        if "exclusiveMaximum" in o:
            values.append(o["exclusiveMaximum"])
        if "maximum" in o:
            values.append(o["maximum"] + 1)
    return [int(v) if is_int else float(v) for v in values]


@pytest.mark.parametrize("key", sorted(NUMERIC))
def test_each_range_refuses_values_outside_it(key):
    values = _outside(NUMERIC[key])
    assert values, f"{key} has no range"
    overrides = ["model.adapter={r: 8}"] if key.startswith("model.adapter.") else []
    for value in values:
        _refused([*overrides, f"{key}={value}"], f"{key}=", "allowed: ")


@pytest.mark.parametrize(
    "override, key",
    [
        ("data.label_set=[anger]", "data.label_set"),
        ("train.epochs=-1", "train.epochs"),
        ("data.max_duration_s=-1", "data.max_duration_s"),
        ("data.valid_fraction=1.5", "data.valid_fraction"),
        ("train.max_steps=0", "train.max_steps"),
        ("train.keep_checkpoints=0", "train.keep_checkpoints"),
        ("train.warmup_ratio=2.0", "train.warmup_ratio"),
        ("train.batch_size=0", "train.batch_size"),
        ("train.batch_size=-3", "train.batch_size"),
        ("train.grad_accum_steps=0", "train.grad_accum_steps"),
        ("train.log_every_n_steps=0", "train.log_every_n_steps"),
        ("data.max_duration_s=0", "data.max_duration_s"),
        ("data.protocol_options={test_fraction: 1.5}", "data.protocol_options.test_fraction"),
        ("data.protocol_options={num_folds: 1}", "data.protocol_options.num_folds"),
        ("data.augment=[{name: noise, p: 1.5}]", "data.augment[0].p"),
        # issue 13: misspelt option keys and unknown names, refused before any work too
        ("data.augment=[{name: noise, snrdb: 3}]", "snrdb"),
        ("data.protocol_options={test_fractoin: 0.3}", "test_fractoin"),
        ("model.pooling_kwargs={eps: 1.0}", "eps"),
        ("data.protocol=nope", "data.protocol"),
    ],
)
def test_impossible_values_from_issue_15_are_refused_before_any_decoding(tmp_path, override, key):
    """Each value is refused by the real entry point before a run folder or an audio store exists."""
    from hf_ser.train import main

    out, cache = tmp_path / "run", tmp_path / "cache"
    with pytest.raises(RecipeError, match=key.replace(".", r"\.").replace("[", r"\[").replace("]", r"\]")):
        main([str(DEMO), f"train.output_dir={out}", f"data.cache_dir={cache}", override])
    assert not out.exists() and not cache.exists()


def test_valid_fraction_zero_only_when_selecting_on_test():
    _refused(["data.valid_fraction=0"], "data.valid_fraction=0", "selection_split")
    load_recipe(DEMO, ["data.valid_fraction=0", "data.selection_split=test"])
    load_recipe(DEMO, ["data.valid_fraction=0", "data.selection_split=none"])  # no selection: the final model


def test_unknown_protocol_lists_the_valid_ones():
    message = _refused(["data.protocol=nope"], "data.protocol", "'nope'", "holdout_speakers", "ravdess_luna5")
    assert "\n" not in message


def test_protocol_for_another_corpus_is_refused():
    _refused(["data.protocol=iemocap_session_loso"], "data.protocol", "'iemocap'", "['ravdess']")


@pytest.mark.parametrize(
    "overrides, fragments",
    [
        (["data.protocol_options={test_fractoin: 0.3}"], ["data.protocol_options", "'test_fractoin'", "'test_fraction'", "'strict'"]),
        (["data.augment=[{name: noise, snr_bd: [10, 30]}]"], ["data.augment[0] (noise)", "'snr_bd'", "'snr_db'", "'talkers'"]),
        (["data.augment=[{name: nosie}]"], ["data.augment[0].name", "'nosie'", "'noise'", "'word_swap'"]),
        (
            ["data.augment=[{name: word_swap, kk: 2}]", "data.alignment={aligner: pause}"],
            ["data.augment[0] (word_swap)", "'kk'", "'crossfade_ms'", "'mode'"],
        ),
        (["data.augment=[{name: word_swap}]"], ["data.alignment.aligner", "'pause'"]),
        (["data.augment=[{name: noise}, {name: word_swap}]", "data.alignment={aligner: pause}"], ["word_swap must be the first"]),
        (["data.alignment={aligner: pause, min_pause: 0.1}"], ["data.alignment (pause)", "'min_pause'", "'min_pause_s'"]),
        (["data.alignment={aligner: mfa}"], ["data.alignment.aligner", "'mfa'", "'textgrid'"]),
        (["model.pooling=attention", "model.pooling_kwargs={num_head: 2}"], ["model.pooling_kwargs (attention)", "'num_head'", "'num_heads'"]),
        (["model.pooling=attentive"], ["model.pooling", "'attentive'", "'attention'"]),
        (["model.kind=mfcc_rnn", "model.options={cel: gru}"], ["model.options (mfcc_rnn)", "'cel'", "'cell'"]),
        (["model.options={cell: gru}"], ["model.options", "wav2vec2"]),
        (["model.kind=svm"], ["model.kind", "'svm'", "'issa_mlp'", "'wav2vec2'"]),
        (["data.corpora.0.options={vocal: speech}"], ["data.corpora[0].options", "'vocal'", "'vocal_channel'"]),
        (["data.corpora.0.name=ravdes"], ["data.corpora[0].name", "'ravdes'", "'ravdess'"]),
        (["data.eval_corpora.0.options={foo: 1}"], ["data.eval_corpora[0].options", "'foo'"]),
        (["data.corpora.0.label_map={calm: chill}"], ["data.corpora[0].label_map.calm", "'chill'"]),
        (["data.label_set=7class"], ["data.label_set", "'7class'", "'4class'"]),
        (["model.layers=middle"], ["model.layers", "'weighted'"]),
        (["model.task=regression"], ["model.dims", "valence"]),
        (["folds=first"], ["folds", "'all'"]),
    ],
)
def test_unknown_names_and_option_keys_are_named_with_the_valid_ones(overrides, fragments):
    _refused(overrides, *fragments)


@pytest.mark.parametrize(
    "overrides, fragments",
    [
        (["data.augment=[{name: speed, factors: fast}]"], ["data.augment[0].factors", "fast", "Sequence[float]"]),
        (["data.augment=[{name: noise, kind: 3}]"], ["data.augment[0].kind=3", "str"]),
        (["data.corpora.0.options={vocal_channel: speeches}"], ["data.corpora[0].options.vocal_channel", "speeches"]),
        (["model.kind=mfcc_rnn", "model.options={bidirectional: maybe}"], ["model.options.bidirectional", "bool"]),
        (["data.protocol_options={strict: no_thanks}"], ["data.protocol_options.strict", "bool"]),
    ],
)
def test_wrong_option_types_are_named(overrides, fragments):
    _refused(overrides, *fragments)


def test_all_problems_are_reported_together():
    message = _refused(["train.epochs=0", "train.lr=-1", "model.kind=3"], "3 problems")
    assert "train.epochs" in message and "train.lr" in message and "model.kind" in message
    message = _refused(["data.protocol=nope", "model.pooling=nope"], "2 problems")
    assert "data.protocol" in message and "model.pooling" in message


@pytest.mark.parametrize(
    "override, suggestion",
    [
        ("train.lr_rate=1", "did you mean 'train.lr'?"),
        ("model.poolin=mean", "did you mean 'model.pooling'?"),
        ("train.pooling=mean", "did you mean 'model.pooling'?"),
        ("trian.epochs=1", "did you mean 'train'?"),
        ("data.corpora.0.nmae=ravdess", "did you mean 'data.corpora[0].name'?"),
    ],
)
def test_unknown_key_names_the_closest_valid_one(override, suggestion):
    message = _refused([override], "unknown recipe key", suggestion)
    assert "\n" not in message


def test_valid_options_pass():
    cfg = load_recipe(
        DEMO,
        [
            "model.pooling=attention",
            "model.pooling_kwargs={num_heads: 2}",
            "data.augment=[{name: word_swap, mode: ravdess, k: 1}, {name: speed, factors: [0.9, 1.1]}]",
            "data.alignment={aligner: pause, min_pause_s: 0.08, min_score: 0.5}",
            "data.protocol_options={test_fraction: 0.3, strict: false}",
            "data.corpora.0.options={vocal_channel: both}",
            "model.regression_loss_weight=0.5",
        ],
    )
    assert cfg.model.pooling_kwargs == {"num_heads": 2}


def test_load_recipe_can_skip_validation_for_partial_recipes():
    cfg = load_recipe(None, ["data.protocol=nope"], validate=False)
    assert cfg.data.protocol == "nope"
    with pytest.raises(RecipeError, match="data.corpora"):
        load_recipe(None, [])


def test_backbone_dependent_options_fail_at_load():
    """Whisper's missing SpecAugment and adapter settings are refused before any audio is decoded."""
    demo = Path(__file__).parents[1] / "recipes" / "demo" / "ravdess_tiny.yaml"
    cases = {
        "model.mask_time_prob": ["model.backbone=shape:tiny-whisper", "model.mask_time_prob=0.05"],
        "model.adapter.target_modules": ["model.backbone=shape:tiny-wavlm", "model.adapter={target_modules: attention}"],
        "model.adapter.layers": ["model.num_frozen_layers=2", "model.adapter={layers: [0, 3]}"],
        "model.adapter=": ["model.kind=issa_cnn", "model.adapter={r: 4}"],  # an option of the other kind
    }
    for key, overrides in cases.items():
        with pytest.raises(RecipeError, match=re.escape(key)):
            load_recipe(demo, overrides)
    load_recipe(demo, ["model.backbone=shape:tiny-whisper", "model.adapter={layers: upper_half}"])  # valid
