"""The recipe schema exported: recipes/recipe.schema.json and docs/recipe_reference.md are current, the JSON
Schema accepts every shipped recipe and refuses a misspelt key, and the reference lists every field."""

from __future__ import annotations

import dataclasses
import re
import typing
from pathlib import Path

import jsonschema
import pytest
import yaml

from hf_ser.config import RecipeConfig, _schema_dataclass, load_recipe
from hf_ser.recipe_schema import REFERENCE_PATH, SCHEMA_PATH, generated, main, recipe_json_schema

ROOT = Path(__file__).parents[1]
RECIPES = sorted(p for p in (ROOT / "recipes").rglob("*.yaml") if "accelerate" not in p.parts and "matrix" not in p.name)


def _every_field(cls: type, prefix: str = "") -> list[str]:
    """Dotted keys of every field of every config dataclass, read from the dataclasses themselves."""
    keys = []
    for f in dataclasses.fields(cls):
        key = f"{prefix}.{f.name}" if prefix else f.name
        keys.append(key)
        tp = typing.get_type_hints(cls)[f.name]
        inner = _schema_dataclass(tp)
        if inner is not None:
            keys += _every_field(inner, key + ("[]" if typing.get_origin(tp) is list else ""))
    return keys


@pytest.mark.parametrize("rel", [SCHEMA_PATH, REFERENCE_PATH], ids=str)
def test_generated_files_are_current(rel):
    assert (ROOT / rel).read_text() == generated()[rel], f"{rel} is stale: run `python -m hf_ser.recipe_schema`"


def test_check_flag_reports_a_stale_file(tmp_path, capsys):
    (tmp_path / "recipes").mkdir()
    (tmp_path / "docs").mkdir()
    assert main(["--root", str(tmp_path), "--check"]) == 1
    assert main(["--root", str(tmp_path)]) == 0
    assert (tmp_path / SCHEMA_PATH).read_text() == generated()[SCHEMA_PATH]
    assert main(["--root", str(tmp_path), "--check"]) == 0


def test_reference_lists_every_field_of_every_config_dataclass():
    reference = (ROOT / REFERENCE_PATH).read_text()
    rows = set(re.findall(r"^\| `([^`]+)` \|", reference, flags=re.M))
    # A section used twice is listed once: data.eval_corpora[] as data.corpora[], model.text_adapter as model.adapter.
    every = [k for k in _every_field(RecipeConfig) if not k.startswith(("data.eval_corpora[].", "model.text_adapter."))]
    missing = [k for k in every if k not in rows]
    assert not missing, f"docs/recipe_reference.md lacks {missing}: run `python -m hf_ser.recipe_schema`"
    assert len(every) > 80  # the walk itself found the sections


def test_every_field_has_a_docstring():
    """The reference's description column comes from each field's docstring in hf_ser/config.py."""
    schema = recipe_json_schema()
    from hf_ser.recipe_schema import fields

    undocumented = [key for _, key, prop in fields(schema) if not prop.get("description")]
    assert not undocumented, f"fields without a docstring in hf_ser/config.py: {undocumented}"


@pytest.mark.parametrize("path", RECIPES, ids=[str(p.relative_to(ROOT / "recipes")) for p in RECIPES])
def test_json_schema_accepts_every_shipped_recipe(path):
    schema = yaml.safe_load((ROOT / SCHEMA_PATH).read_text())
    jsonschema.validate(yaml.safe_load(path.read_text()), schema)


def test_json_schema_and_loader_refuse_a_misspelt_key(tmp_path):
    schema = yaml.safe_load((ROOT / SCHEMA_PATH).read_text())
    recipe = yaml.safe_load((ROOT / "recipes" / "demo" / "ravdess_tiny.yaml").read_text())
    recipe["train"]["lr_rate"] = recipe["train"].pop("lr")
    with pytest.raises(jsonschema.ValidationError, match="lr_rate"):
        jsonschema.validate(recipe, schema)
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(recipe))
    with pytest.raises(Exception, match=r"did you mean 'train\.lr'\?"):
        load_recipe(path)


def test_readme_modeline_points_at_the_schema():
    """The README's editor line, as written, resolves from a recipe folder to the schema file."""
    readme = (ROOT / "README.md").read_text()
    line = re.search(r"^# yaml-language-server: \$schema=(\S+)$", readme, flags=re.M)
    assert line, "README shows no yaml-language-server line"
    assert (ROOT / "recipes" / "demo" / line.group(1)).resolve() == (ROOT / SCHEMA_PATH).resolve()
