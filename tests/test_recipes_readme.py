"""recipes/README.md is the list of recipes (SpeechBrain's tests/recipes/*.csv idea): every recipe file is listed,
every listed file exists and loads (a training recipe through the full validation, a matrix as a matrix)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

RECIPES = Path(__file__).parents[1] / "recipes"
ROW = re.compile(r"^\| `([^`]+\.yaml)` \|")


def listed() -> list[str]:
    return [m.group(1) for line in (RECIPES / "README.md").read_text().splitlines() if (m := ROW.match(line))]


def test_every_recipe_file_is_listed_once():
    names = listed()
    assert len(names) == len(set(names)), "a recipe is listed twice"
    on_disk = sorted(str(p.relative_to(RECIPES)) for p in RECIPES.rglob("*.yaml"))
    assert sorted(set(on_disk) - set(names)) == [], "recipes missing from recipes/README.md"


@pytest.mark.parametrize("name", listed())
def test_every_listed_recipe_exists_and_loads(name):
    path = RECIPES / name
    assert path.is_file(), f"recipes/README.md lists {name}, which does not exist"
    if name.startswith("accelerate/"):
        assert isinstance(yaml.safe_load(path.read_text()), dict)
    elif "matrix" in name:
        from hf_ser.matrix import load_matrix

        assert Path(load_matrix(path).base).is_file()
    else:
        from hf_ser.config import load_recipe

        load_recipe(path)  # schema + validate_recipe


def test_launch_lines_name_their_own_recipe():
    for line in (RECIPES / "README.md").read_text().splitlines():
        m = ROW.match(line)
        if m and not m.group(1).startswith("accelerate/"):
            assert f"recipes/{m.group(1)}" in line, f"the launch line of {m.group(1)} names another file"
