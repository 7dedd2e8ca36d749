import json
import os
import subprocess
import sys
import sysconfig
import textwrap

import numpy as np
import pytest
import torch
from tiny_models import ID2LABEL
from transformers import pipeline

from hf_ser.models import build_feature_extractor, build_model

BACKBONES = ["tiny", "tiny-whisper"]


def _save(backbone: str, model_dir):
    """A tiny model of ``backbone`` saved with its feature extractor in ``model_dir``; returns the model."""
    model = build_model(
        backbone=f"shape:{backbone}", id2label=ID2LABEL, num_frozen_layers=2, pooling="attention", layers="weighted", seed=0
    )
    model.save_pretrained(model_dir)
    build_feature_extractor().save_pretrained(model_dir)
    return model.eval()


@pytest.fixture(params=BACKBONES)
def saved_model(tmp_path, request):
    model_dir = tmp_path / "model"
    return _save(request.param, model_dir), model_dir


def _clip() -> np.ndarray:
    return np.random.default_rng(0).standard_normal(12_000).astype(np.float32)


def test_saved_directory_has_code_and_feature_extractor(saved_model):
    _, model_dir = saved_model
    names = {path.name for path in model_dir.iterdir()}
    code = {"configuration_ser.py", "modeling_ser.py", "pooling.py", "whisper_encoder.py"}
    assert code | {"preprocessor_config.json"} <= names
    # the saved code must not need hf_ser
    for name in code:
        lines = (model_dir / name).read_text().splitlines()
        assert not [line for line in lines if line.startswith(("from hf_ser", "import hf_ser"))]


def test_pipeline_with_hf_ser_installed(saved_model):
    model, model_dir = saved_model
    classifier = pipeline("audio-classification", model=str(model_dir))
    result = classifier(_clip(), top_k=len(ID2LABEL))
    assert {row["label"] for row in result} == set(ID2LABEL.values())
    # same scores as the model itself on the normalised input
    inputs = build_feature_extractor()(_clip(), sampling_rate=16_000, return_tensors="pt")
    with torch.no_grad():
        probs = model(**inputs).logits.softmax(-1)[0]
    expected = {ID2LABEL[i]: float(p) for i, p in enumerate(probs)}
    assert {row["label"]: row["score"] for row in result} == pytest.approx(expected, abs=1e-5)


@pytest.fixture(scope="module")
def remote_code_loads(tmp_path_factory):
    """Each backbone of ``saved_model`` saved as above, then all loaded by ONE ``python -S`` process in which hf_ser
    is not importable (one interpreter start, not one per backbone): backbone -> (model class module, top label),
    or the traceback of that backbone's load."""
    tmp = tmp_path_factory.mktemp("remote_code")
    dirs = {}
    for backbone in BACKBONES:
        dirs[backbone] = tmp / f"model_{backbone}"  # one folder name each: transformers names the code module after it
        _save(backbone, dirs[backbone])
    script = textwrap.dedent(
        """
        import importlib.util, json, sys, traceback
        import numpy as np
        assert importlib.util.find_spec("hf_ser") is None, "hf_ser is importable"
        from transformers import pipeline
        for folder in sys.argv[1:]:
            try:
                classifier = pipeline("audio-classification", model=folder, trust_remote_code=True)
                label = classifier(np.random.default_rng(0).standard_normal(12_000).astype(np.float32))[0]["label"]
                print(json.dumps([type(classifier.model).__module__, label]))
            except Exception:
                print(json.dumps(["failed", traceback.format_exc()]))
        """
    )
    # -S: no site processing, so the editable install's path hook is gone; site-packages is added by hand.
    env = {
        **os.environ,
        "PYTHONPATH": sysconfig.get_paths()["purelib"],
        "HF_HOME": str(tmp / "hf_home"),
        "HF_HUB_OFFLINE": "1",
    }
    done = subprocess.run(
        [sys.executable, "-S", "-c", script, *map(str, dirs.values())],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [json.loads(line) for line in done.stdout.strip().splitlines()[-len(dirs) :]]
    return dict(zip(dirs, rows))


@pytest.mark.parametrize("backbone", BACKBONES)
def test_pipeline_with_remote_code_where_hf_ser_is_not_importable(remote_code_loads, backbone):
    module, label = remote_code_loads[backbone]
    assert module.startswith("transformers_modules.") and module.endswith("modeling_ser"), label
    assert label in ID2LABEL.values()
