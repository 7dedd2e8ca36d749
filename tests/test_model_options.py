"""One place per model option: each kind's options are one dataclass of ``hf_ser.model_options``; from there
they reach the recipe schema, the builder and the saved ``config.json`` under their own names, and options of
the other kind are refused, not dropped."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hf_ser.config import ModelConfig, RecipeError, load_recipe
from hf_ser.model_kinds import MODEL_KINDS, build_model_of_kind, kind_options
from hf_ser.model_options import BaselineOptions, SslOptions

ROOT = Path(__file__).parents[1]
DEMO = ROOT / "recipes" / "demo" / "ravdess_tiny.yaml"
BASELINE_DEMO = ROOT / "recipes" / "demo" / "baseline_issa_mlp.yaml"


def test_the_recipe_section_is_the_kinds_options_and_nothing_else():
    names = {f.name for f in dataclasses.fields(ModelConfig)}
    declared = {f.name for cls, _ in MODEL_KINDS.values() for f in dataclasses.fields(cls)}
    # kind picks the options; targets and class_weights are read by the trainer (how the targets and the loss
    # weights are made from the data), not by a builder.
    assert names - declared == {"kind", "targets", "class_weights"}
    assert declared <= names


# The throw-away option: one field added to SslOptions in a copy of the package, nothing else edited.
NEW_OPTION = '''    dropout_head: Annotated[float, Field(ge=0, lt=1)] = 0.0
    """Throw-away option of tests/test_model_options.py."""
'''
SCRIPT = """
import json, sys
from pathlib import Path
from hf_ser.config import load_recipe
from hf_ser.training.saving import save_model
from hf_ser.model_kinds import build_model_of_kind
from hf_ser.models import SerConfig, build_feature_extractor
cfg = load_recipe(sys.argv[1], ["model.dropout_head=0.25", "model.freeze_feature_encoder=true"])
model = build_model_of_kind(cfg.model, id2label={0: "a", 1: "b"}, dims=(), class_weights=None, seed=0)
out = Path(sys.argv[2])
save_model(model, build_feature_extractor(), out)
saved = json.loads((out / "config.json").read_text())
saved.pop("dropout_head")  # as saved before the option existed
(out / "config.json").write_text(json.dumps(saved))
print(json.dumps({"recipe": cfg.model.dropout_head, "old": SerConfig.from_pretrained(out).dropout_head}))
"""


def test_an_option_added_in_one_place_reaches_the_saved_config(tmp_path):
    package = tmp_path / "hf_ser"
    shutil.copytree(ROOT / "hf_ser", package, ignore=shutil.ignore_patterns("__pycache__", "demo_data", "splits_data"))
    for data in ("demo_data", "splits_data"):
        (package / data).symlink_to(ROOT / "hf_ser" / data)
    options = package / "model_options.py"
    anchor = '    attn_implementation: Union[Literal["sdpa", "eager", "flash_attention_2"], None] = None\n'
    assert anchor in options.read_text()
    options.write_text(options.read_text().replace(anchor, NEW_OPTION + anchor))
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(DEMO), str(tmp_path / "model")],
        cwd=tmp_path, env={**_env(), "PYTHONPATH": str(tmp_path)}, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {"recipe": 0.25, "old": 0.0}  # a folder saved before the option gets its default


def test_the_saved_config_of_the_copy_had_the_option(tmp_path):
    """Every option of a kind is in config.json under its own name (not only the throw-away one)."""
    cfg = load_recipe(DEMO, ["model.dropout=0.3", "model.head_hidden_size=8", "model.pooling=attention",
                             "model.pooling_kwargs={num_heads: 2}", "model.mask_time_prob=0.0"])
    model = build_model_of_kind(cfg.model, id2label={0: "anger", 1: "sadness"}, dims=(), class_weights=None, seed=0)
    model.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    expected = {k: v for k, v in dataclasses.asdict(kind_options(cfg.model)).items() if k not in SslOptions.NOT_SAVED}
    assert {k: saved[k] for k in expected} == expected
    assert saved["dropout"] == 0.3 and saved["pooling_kwargs"] == {"num_heads": 2}
    assert saved["hf_ser_format"] >= 1


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


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
    assert c.dropout == pytest.approx(0.3) and c.head_hidden_size == 8
    assert c.pooling == "attention" and c.pooling_kwargs == {"num_heads": 2}
    assert c.backbone_config.mask_time_prob == 0.0


def test_baseline_takes_the_head_options_and_its_own():
    cfg = load_recipe(BASELINE_DEMO, ["model.task=multitask", "model.dims=[valence]", "model.regression_loss_weight=2.0",
                                      "model.options={hidden_sizes: [8], feature_cache_dir: none}"])
    assert isinstance(kind_options(cfg.model), BaselineOptions)
    model = build_model_of_kind(cfg.model, id2label={0: "anger", 1: "sadness"}, dims=("valence",), class_weights=None, seed=0)
    assert model.config.regression_loss_weight == 2.0 and model.config.kind == "issa_mlp"
    assert model.config.options == {"hidden_sizes": [8], "feature_cache_dir": "none"}


@pytest.mark.parametrize(
    "recipe, overrides, key",
    [
        (BASELINE_DEMO, ["model.pooling=attention"], "model.pooling='attention'"),
        (BASELINE_DEMO, ["model.kind=mfcc_rnn", "model.num_frozen_layers=2", "model.options={}"], "model.num_frozen_layers=2"),
        (BASELINE_DEMO, ["model.adapter={r: 4}"], "model.adapter="),
        (DEMO, ["model.options={cell: gru}"], "model.options={'cell': 'gru'}"),
    ],
)
def test_options_of_the_other_kind_are_refused_not_dropped(recipe, overrides, key):
    with pytest.raises(RecipeError) as info:
        load_recipe(recipe, overrides)
    assert key in str(info.value) and "does not take it" in str(info.value)


def test_builders_refuse_a_name_that_is_no_option():
    from hf_ser.models import build_model

    with pytest.raises(TypeError, match="no option 'poolin'"):
        build_model(backbone="shape:tiny", id2label={0: "a", 1: "b"}, poolin="mean")
