"""Saved models survive upgrades: a folder saved by hf_ser 0.1.0 (tests/fixtures/saved_0_1_0, made with that
release's code) loads with the installed classes in predict and evaluate, without --trust-remote-code, and gives
the logits 0.1.0 gave; a folder of a newer format is refused in one line naming the version to install."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from hf_ser import cli
from hf_ser.evaluation.inference import load_model
from hf_ser.saved_format import FORMAT_KEY, FORMAT_VERSION, VERSION_KEY, NewerFormatError, upgrade

FIXTURE = Path(__file__).parents[1] / "fixtures" / "saved_0_1_0"
EXPECTED = json.loads((FIXTURE / "expected_logits.json").read_text())["logits"]


@pytest.mark.parametrize("name", ["ser_model", "baseline_model"])
def test_a_folder_of_the_previous_release_loads_and_gives_its_logits(name):
    saved = json.loads((FIXTURE / name / "config.json").read_text())
    assert FORMAT_KEY not in saved  # 0.1.0 wrote no format: format 0
    model, _ = load_model(FIXTURE / name)
    assert getattr(model.config, FORMAT_KEY) == FORMAT_VERSION and model.config.dropout == saved["classifier_dropout"]
    x = torch.randn(2, 8000, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        logits = model(input_values=x).logits
    torch.testing.assert_close(logits, torch.tensor(EXPECTED[name]), rtol=1e-4, atol=1e-5)


def test_previous_release_folder_in_predict_and_evaluate(tmp_path, capsys, fake_corpus):
    """Its .py files are 0.1.0's (not the installed hf_ser's): never run, and no longer a reason to refuse."""
    model_dir = FIXTURE / "ser_model"
    assert (model_dir / "modeling_ser.py").read_bytes() != (Path(cli.__file__).parent / "models" / "modeling_ser.py").read_bytes()
    wav = next(Path(fake_corpus).rglob("*.wav"))
    assert cli.main(["predict", str(model_dir), str(wav), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["label"] in {"angry", "happy", "neutral", "sad"}
    out = tmp_path / "eval"
    argv = ["evaluate", str(model_dir), "--corpus", "fake", str(fake_corpus), "--n-boot", "0", "--no-progress", "--output", str(out)]
    assert cli.main(argv) == 0
    assert any(out.iterdir())
    assert not any(FIXTURE.rglob("*.tmp")) and sorted(p.name for p in model_dir.iterdir()) == sorted(
        ["adapter_layers.py", "config.json", "configuration_ser.py", "model.safetensors", "modeling_ser.py", "pooling.py",
         "preprocessor_config.json", "whisper_encoder.py"]
    )  # loading wrote nothing into the folder


def test_a_newer_format_is_refused_naming_the_version_to_install(tmp_path, capsys, fake_corpus):
    model_dir = tmp_path / "model"
    shutil.copytree(FIXTURE / "ser_model", model_dir)
    config = json.loads((model_dir / "config.json").read_text())
    config.update({FORMAT_KEY: FORMAT_VERSION + 1, VERSION_KEY: "9.0.0"})
    (model_dir / "config.json").write_text(json.dumps(config))
    with pytest.raises(NewerFormatError, match=r"hf_ser>=9\.0\.0"):
        load_model(model_dir)
    wav = next(Path(fake_corpus).rglob("*.wav"))
    assert cli.main(["predict", str(model_dir), str(wav)]) == 2
    err = capsys.readouterr().err
    assert "install hf_ser>=9.0.0" in err and "Traceback" not in err


def test_upgrade_renames_and_fills_in_order():
    old = {"classifier_dropout": 0.3, "use_gradient_checkpointing": True, "pooling": "attention"}
    new = upgrade("hf_ser", old)
    assert new["dropout"] == 0.3 and new["gradient_checkpointing"] is True and new["pooling"] == "attention"
    assert "classifier_dropout" not in new and new["focal_gamma"] == 2.0  # an option 0.1.0 knew, kept at its default
    assert new[FORMAT_KEY] == FORMAT_VERSION
    assert upgrade("hf_ser_baseline", {"encoder_options": {"cell": "gru"}})["options"] == {"cell": "gru"}
    assert upgrade("hf_ser", new) == new  # the current format is left as it is
