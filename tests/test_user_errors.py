"""The common mistakes end in one line naming what to type instead and exit status 2 (never a traceback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from audio_fixtures import write_wav

from hf_ser.commands import main

REPO = Path(__file__).parents[1]
DEMO = REPO / "hf_ser" / "demo_data"
DEMO_RECIPE = REPO / "recipes" / "demo" / "ravdess_tiny.yaml"


def _two_speaker_recipe(tmp: Path) -> str:
    rows = ["path,label,speaker"]
    for speaker in ("a", "b"):
        for i, label in enumerate(("happy", "sad", "happy", "sad")):
            write_wav(tmp / "clips" / f"{speaker}{i}.wav", seconds=0.6, seed=i)
            rows.append(f"clips/{speaker}{i}.wav,{label},{speaker}")
    (tmp / "manifest.csv").write_text("\n".join(rows) + "\n")
    recipe = tmp / "two.yaml"
    recipe.write_text(
        "data: {corpora: [{name: manifest, root: manifest.csv}], protocol: holdout_speakers}\n"
        f"model: {{backbone: 'shape:tiny'}}\ntrain: {{output_dir: {tmp / 'run'}}}\n"
    )
    return str(recipe)


def _run_folder(tmp: Path) -> str:
    (tmp / "run" / "model").mkdir(parents=True)
    (tmp / "run" / "model" / "config.json").write_text(json.dumps({"model_type": "wav2vec2"}))
    return str(tmp / "run")


MISTAKES = {
    # name: (argv builder, a fragment of the one error line)
    "mistyped model path": (
        lambda tmp: ["evaluate", str(tmp / "runs" / "demo" / "modle"), "--corpus", "crema_d", str(DEMO / "crema_d")],
        "does not exist",
    ),
    "run folder instead of its model/": (
        lambda tmp: ["evaluate", _run_folder(tmp), "--corpus", "crema_d", str(DEMO / "crema_d")],
        "is a run folder: pass its saved model",
    ),
    "onnx file without --backend onnx": (
        lambda tmp: ["predict", str(tmp / "model.onnx"), str(DEMO / "crema_d")],
        "--backend onnx",
    ),
    "unknown corpus name": (
        lambda tmp: ["corpora", "inspect", "ravdes", str(DEMO / "ravdess")],
        "unknown corpus 'ravdes'",
    ),
    "unknown corpus name in a recipe": (
        lambda tmp: ["train", str(DEMO_RECIPE), "data.corpora.0.name=ravdes"],
        "unknown corpus 'ravdes'",
    ),
    "impossible model.num_frozen_layers": (
        lambda tmp: ["train", str(DEMO_RECIPE), "model.num_frozen_layers=50", "model.freeze_feature_encoder=true"],
        "model.num_frozen_layers=50",
    ),
    "too few speakers for validation": (
        lambda tmp: ["train", _two_speaker_recipe(tmp)],
        "cannot draw validation speakers",
    ),
    "wrong corpus root": (
        lambda tmp: ["train", str(DEMO_RECIPE), f"data.corpora.0.root={tmp / 'nowhere'}", f"train.output_dir={tmp / 'out'}"],
        "does not exist",
    ),
}


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_mistake_prints_one_line_and_exits_2(mistake, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_SER_CACHE", str(tmp_path / "cache"))
    argv, fragment = MISTAKES[mistake]
    assert main(argv(tmp_path)) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if ": error: " in line]
    assert len(errors) == 1 and fragment in errors[0], err[-2000:]
    assert "Traceback" not in err


def test_num_frozen_layers_beyond_a_backbone_known_only_at_build_is_a_recipe_error():
    """A Hub backbone's depth is known once its config is read, in build_model: still a one-line recipe error."""
    from hf_ser.errors import RecipeError
    from hf_ser.models.builder import build_model

    with pytest.raises(RecipeError, match=r"model.num_frozen_layers=9: .* has 4 layers; use 0..4"):
        build_model(backbone="shape:tiny", id2label={0: "a", 1: "b"}, num_frozen_layers=9, freeze_feature_encoder=True)
