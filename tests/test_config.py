from pathlib import Path

import pytest

from hf_ser.config import RecipeConfig, RecipeError, dump_recipe, load_recipe

RECIPES = sorted((Path(__file__).parents[1] / "recipes").rglob("*.yaml"))
RECIPES = [p for p in RECIPES if "accelerate" not in p.parts and "matrix" not in p.name]


def _write(tmp_path, text):
    path = tmp_path / "r.yaml"
    path.write_text(text)
    return path


def test_defaults_and_overrides(tmp_path):
    cfg = load_recipe(
        _write(tmp_path, "name: x\ndata: {corpora: [{name: ravdess, root: r}]}\ntrain: {lr: 1.0e-4}\n"),
        ["train.lr=1e-5", "model.pooling=attention", "folds=all", "train.max_steps=3", "data.label_set=[anger, sadness]"],
    )
    assert isinstance(cfg, RecipeConfig)
    assert cfg.train.lr == pytest.approx(1e-5)  # PyYAML reads 1e-5 as a string; floats accept it
    assert cfg.model.pooling == "attention"
    assert cfg.folds == "all"
    assert cfg.train.max_steps == 3
    assert cfg.data.label_set == ["anger", "sadness"]
    assert cfg.train.epochs == 10  # untouched default


def test_unknown_key_is_named(tmp_path):
    with pytest.raises(RecipeError, match=r"train\.lrr"):
        load_recipe(_write(tmp_path, "train: {lrr: 0.1}\n"))
    with pytest.raises(RecipeError, match="model.poolin"):
        load_recipe(None, ["model.poolin=mean"])


def test_wrong_type_is_named(tmp_path):
    with pytest.raises(RecipeError, match=r"train\.epochs"):
        load_recipe(_write(tmp_path, "train: {epochs: many}\n"))
    with pytest.raises(RecipeError, match=r"train\.mixed_precision"):
        load_recipe(None, ["train.mixed_precision=fp8"])
    with pytest.raises(RecipeError, match=r"data\.corpora\[0\]"):
        load_recipe(_write(tmp_path, "data: {corpora: [{name: ravdess}]}\n"))


def test_malformed_override():
    with pytest.raises(RecipeError, match="key=value"):
        load_recipe(None, ["train.lr"])


def test_resolved_recipe_round_trips(tmp_path):
    cfg = load_recipe(None, ["name=rt", "data.corpora=[{name: ravdess, root: /data/r}]", "model.layers=6"])
    dump_recipe(cfg, tmp_path / "resolved.yaml")
    again = load_recipe(tmp_path / "resolved.yaml")
    assert again == cfg
    assert again.model.layers == 6


@pytest.mark.parametrize("path", RECIPES, ids=[str(p.relative_to(p.parents[1])) for p in RECIPES])
def test_every_recipe_loads(path):
    from hf_ser.corpora import CORPORA
    from hf_ser.models.pooling import POOLING
    from hf_ser.splits import PROTOCOLS

    cfg = load_recipe(path)
    assert cfg.data.corpora, f"{path} lists no corpora"
    for spec in cfg.data.corpora + cfg.data.eval_corpora:
        assert spec.name in CORPORA
    assert cfg.data.protocol in PROTOCOLS
    from hf_ser.baselines import BASELINES

    assert cfg.model.kind == "wav2vec2" or cfg.model.kind in BASELINES
    assert cfg.model.pooling in POOLING


def test_override_indexes_lists(tmp_path):
    path = _write(tmp_path, "data: {corpora: [{name: ravdess, root: a}, {name: emodb, root: b}]}\n")
    cfg = load_recipe(path, ["data.corpora.1.root=/data/EmoDB"])
    # a relative root in the file is relative to the file's folder; an override's path is kept as typed
    assert [c.root for c in cfg.data.corpora] == [str(path.parent.resolve() / "a"), "/data/EmoDB"]
    cfg = load_recipe(path, ["data.corpora.1.root=rel/EmoDB"])
    assert cfg.data.corpora[1].root == "rel/EmoDB"
    with pytest.raises(RecipeError, match="index"):
        load_recipe(path, ["data.corpora.5.root=x"])


def test_matrix_recipes_load():
    from hf_ser.corpora import CORPORA
    from hf_ser.matrix import load_matrix

    for path in sorted((Path(__file__).parents[1] / "recipes").rglob("*matrix*.yaml")):
        cfg = load_matrix(path)
        assert Path(cfg.base).is_file()
        for specs in [*cfg.sources.values(), cfg.targets]:
            assert all(s.name in CORPORA for s in specs)


# The "billion laughs" shape: 9 levels of 9 aliases each, 366 bytes of YAML standing for 9**9 values.
LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi")
)


def test_aliases_expanding_past_the_limit_are_refused_in_one_short_line(tmp_path):
    assert len(LAUGHS) < 400
    with pytest.raises(RecipeError, match="aliases expand to") as err:
        load_recipe(_write(tmp_path, "model:\n  options:\n" + "".join(f"    {line}" for line in LAUGHS.splitlines(True))))
    assert "\n" not in str(err.value) and len(str(err.value)) < 500
    with pytest.raises(RecipeError, match="aliases expand to"):
        load_recipe(None, ["model.options=" + "{" + LAUGHS.replace("\n", ", ").rstrip(", ") + "}"])
    # A few aliases are fine (recipes reuse a corpus list).
    cfg = load_recipe(_write(tmp_path, "data:\n  corpora: &c [{name: ravdess, root: r}]\n  eval_corpora: *c\n"), validate=False)
    assert cfg.data.eval_corpora == cfg.data.corpora


def test_errors_quoting_big_values_and_yaml_errors_are_one_bounded_line(tmp_path):
    big = "[" + ", ".join(["many"] * 20_000) + "]"
    with pytest.raises(RecipeError, match=r"train\.epochs") as err:
        load_recipe(_write(tmp_path, f"train: {{epochs: {big}}}\n"))
    assert "\n" not in str(err.value) and len(str(err.value)) < 500
    with pytest.raises(RecipeError, match="not valid YAML") as err:
        load_recipe(_write(tmp_path, "train: {epochs: [1,\n" + "  " * 5000 + "}\n"))
    assert "\n" not in str(err.value) and len(str(err.value)) < 500
    with pytest.raises(RecipeError, match="nested too deeply"):
        load_recipe(_write(tmp_path, "a: " + "[" * 50_000 + "]" * 50_000 + "\n"))
