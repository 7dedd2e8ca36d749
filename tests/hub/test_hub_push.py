"""Push a run to a local fake Hub, then load it back through the same endpoint in a clean subprocess."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hub.tiny_run import LABELS, write_run_dir

from hf_ser.hub import HubPushError, collect_run_files, push_run

UPLOAD_STEPS = r"^/api/repos/create|/preupload/|/commit/"
TOKEN = "hf_TestTokenAbcdefghijklmnopqrstuvwxyz0123"

# Runs in a subprocess whose import path has neither the repository nor hf_ser: what a Hub user has.
_LOAD_BACK = textwrap.dedent(
    """
    import importlib.abc, json, sys
    root = sys.argv[1]
    # Drop the repository (and the working dir); keep the interpreter's own site-packages.
    sys.path[:] = [p for p in sys.path if p and not (p.startswith(root) and "site-packages" not in p)]

    class _NoHfSer(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "hf_ser" or name.startswith("hf_ser."):
                raise ModuleNotFoundError(f"hf_ser must not be importable here ({name})")
            return None

    sys.meta_path.insert(0, _NoHfSer())
    import numpy as np, torch
    from transformers import AutoFeatureExtractor, AutoModelForAudioClassification, pipeline

    repo_id = sys.argv[2]
    rng = np.random.default_rng(0)
    waves = [(0.3 * rng.standard_normal(16000 * (i + 1))).astype("float32") for i in range(3)]
    model = AutoModelForAudioClassification.from_pretrained(repo_id, trust_remote_code=True).eval()
    fe = AutoFeatureExtractor.from_pretrained(repo_id, trust_remote_code=True)
    labels = []
    for w in waves:
        inputs = fe(w, sampling_rate=16000, return_tensors="pt")
        with torch.no_grad():
            labels.append(model.config.id2label[int(model(**inputs).logits.argmax(-1))])
    clf = pipeline("audio-classification", model=repo_id, trust_remote_code=True)
    top = [clf({"raw": w, "sampling_rate": 16000}, top_k=1)[0]["label"] for w in waves]
    print(json.dumps({"model": labels, "pipeline": top, "hf_ser_loaded": "hf_ser" in sys.modules}))
    """
)


def _local_labels(model_dir: Path) -> list[str]:
    import numpy as np
    import torch
    from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

    rng = np.random.default_rng(0)
    waves = [(0.3 * rng.standard_normal(16000 * (i + 1))).astype("float32") for i in range(3)]
    model = AutoModelForAudioClassification.from_pretrained(model_dir, trust_remote_code=True).eval()
    fe = AutoFeatureExtractor.from_pretrained(model_dir, trust_remote_code=True)
    out = []
    for w in waves:
        with torch.no_grad():
            out.append(model.config.id2label[int(model(**fe(w, sampling_rate=16000, return_tensors="pt")).logits.argmax(-1))])
    return out


def _tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def test_push_then_load_back_in_clean_process(fake_hub, tmp_path):
    run = write_run_dir(tmp_path / "run_a")
    url = push_run(run, "org/tiny-ser", token=TOKEN)
    assert url == f"{fake_hub.endpoint}/org/tiny-ser"

    head = fake_hub.repo("org/tiny-ser").head
    expected = set(collect_run_files(run)) | {"README.md"}
    assert expected <= set(head.files)
    for required in ("model.safetensors", "config.json", "preprocessor_config.json", "custom_head.py",
                     "recipe.resolved.yaml", "eval/metrics.json", "eval/confusion_test_ravdess.png",
                     "eval/reliability_test_ravdess.png"):
        assert required in head.files, required
    assert not [p for p in head.files if p.startswith("manifests/")]  # per-clip files only on request
    assert head.files["model.safetensors"] == (run / "model" / "model.safetensors").read_bytes()
    # The weights went through the LFS batch + PUT path, not inline in the commit.
    assert "model.safetensors" in head.lfs
    assert any(r.method == "PUT" and r.path.startswith("/_lfs/upload/") for r in fake_hub.requests)
    assert json.loads(head.files["config.json"])["id2label"] == {str(i): lab for i, lab in enumerate(LABELS)}
    assert not fake_hub.unhandled(), [(r.method, r.path) for r in fake_hub.unhandled()]

    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_", "PYTHON"))}
    env.update(HF_ENDPOINT=fake_hub.endpoint, HF_HUB_DISABLE_XET="1", HF_HOME=str(tmp_path / "client_home"),
               HF_HUB_DISABLE_TELEMETRY="1", TOKENIZERS_PARALLELISM="false")
    repo_root = str(Path(__file__).resolve().parents[2])
    proc = subprocess.run(
        [sys.executable, "-c", _LOAD_BACK, repo_root, "org/tiny-ser"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    local = _local_labels(run / "model")
    assert got["model"] == local
    assert got["pipeline"] == local
    assert got["hf_ser_loaded"] is False
    # The client really downloaded through the fake Hub.
    assert any(r.method == "GET" and "/org/tiny-ser/resolve/" in r.path and r.path.endswith("model.safetensors")
               for r in fake_hub.requests)


def test_transient_failures_are_retried(fake_hub, tmp_path):
    run = write_run_dir(tmp_path / "run_b")
    fake_hub.fail_paths = UPLOAD_STEPS  # the token check passes; the upload meets two 503s, then the Hub answers
    fake_hub.fail_first = 2
    push_run(run, "org/retry", token=TOKEN, backoff_s=0.01)
    assert "README.md" in fake_hub.repo("org/retry").head.files


def test_persistent_failure_is_clear_and_leaves_run_intact(fake_hub, tmp_path):
    run = write_run_dir(tmp_path / "run_c")
    before = _tree_digest(run)
    fake_hub.fail_paths = UPLOAD_STEPS
    fake_hub.fail_first = 10_000
    with pytest.raises(HubPushError) as excinfo:
        push_run(run, "org/down", token=TOKEN, max_retries=2, backoff_s=0.01)
    message = str(excinfo.value)
    assert "after 3 attempts" in message and "local run is intact" in message
    assert TOKEN not in message
    assert excinfo.value.__cause__ is None and excinfo.value.__suppress_context__
    assert _tree_digest(run) == before
    assert ("model", "org/down") not in fake_hub.repos


def test_missing_model_is_refused(tmp_path):
    (tmp_path / "empty_run").mkdir()
    with pytest.raises(FileNotFoundError, match="model/config.json"):
        push_run(tmp_path / "empty_run", "org/x", token=TOKEN)


def test_nothing_local_is_pushed(fake_hub, tmp_path):
    import yaml

    run = write_run_dir(tmp_path / "run_p")  # its recipe reads ravdess from /data/ravdess
    recipe = yaml.safe_load((run / "recipe.resolved.yaml").read_text())
    crema = tmp_path / "corpora" / "CREMA-D"
    recipe["data"]["eval_corpora"] = [{"name": "crema_d", "root": str(crema)}]
    recipe["data"]["cache_dir"] = str(tmp_path / "cache")
    recipe["train"]["output_dir"] = str(run)
    (run / "recipe.resolved.yaml").write_text(yaml.safe_dump(recipe, sort_keys=False))
    report = {"targets": {"crema_d": {"skipped": [{"path": f"{crema}/AudioWAV/1076_MTI_SAD_XX.wav", "reason": "silent"}]}}}
    (run / "data_report.json").write_text(json.dumps(report))
    push_run(run, "org/clean", token=TOKEN, include_manifests=True)  # the per-file skip list too
    files = fake_hub.repo("org/clean").head.files
    texts = {name: data.decode() for name, data in files.items() if name.endswith((".yaml", ".json", ".jsonl", ".md"))}
    assert {"README.md", "recipe.resolved.yaml", "eval/data_report.json"} <= set(texts)
    for name, text in texts.items():
        assert "/data/ravdess" not in text and str(tmp_path) not in text, name
    pushed = yaml.safe_load(texts["recipe.resolved.yaml"])
    assert pushed["data"]["corpora"][0]["root"] == "<root of ravdess>"
    assert pushed["data"]["eval_corpora"][0]["root"] == "<root of crema_d>"
    assert pushed["data"]["cache_dir"] == "<cache dir>" and pushed["train"]["output_dir"] == "<run dir>"
    skipped = json.loads(texts["eval/data_report.json"])["targets"]["crema_d"]["skipped"][0]["path"]
    assert skipped == "<root of crema_d>/AudioWAV/1076_MTI_SAD_XX.wav"
    assert "root: <root of ravdess>" in texts["README.md"]  # the card's recipe section
    # The local run itself is untouched.
    assert yaml.safe_load((run / "recipe.resolved.yaml").read_text())["train"]["output_dir"] == str(run)


def test_an_hf_ser_model_with_a_stock_form_is_pushed_in_it_and_the_card_says_so(fake_hub, tmp_path):
    """Issue 25 item 4: `hf-ser push` uploads the stock transformers form when the head has one."""
    import shutil

    from hf_ser.models import build_feature_extractor, build_model

    run = write_run_dir(tmp_path / "run_s")
    shutil.rmtree(run / "model")
    model = build_model(backbone="shape:tiny", id2label=dict(enumerate(LABELS)), seed=0)
    model.save_pretrained(run / "model")
    build_feature_extractor().save_pretrained(run / "model")
    push_run(run, "org/stock", token=TOKEN)
    files = fake_hub.repo("org/stock").head.files
    config = json.loads(files["config.json"])
    assert config["architectures"] == ["Wav2Vec2ForSequenceClassification"] and "auto_map" not in config
    assert not [name for name in files if name.endswith(".py")]
    assert "eval/metrics.json" in files
    assert "stock transformers `Wav2Vec2ForSequenceClassification`" in files["README.md"].decode()
    assert (run / "model" / "modeling_ser.py").is_file()  # the local run is untouched
