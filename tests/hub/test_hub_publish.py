"""Publishing is deliberate: a dry run shows every byte, per-clip files stay local, links are not followed,
no local path leaves the machine, and a push that cannot start says so at once, in one line."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from hub.tiny_run import write_run_dir

from hf_ser import cli
from hf_ser.hub import push
from hf_ser.hub.public import PublishRefusedError, check_manifests_publishable
from hf_ser.hub.push import HubPushError, plan_push, push_run

TOKEN = "hf_PublishTokenAbcdefghijklmnopqrstuvwxyz01"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network used: {args}")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture
def no_login(monkeypatch, tmp_path):
    """Neither HF_TOKEN nor a saved `hf auth login` token."""
    from huggingface_hub import constants

    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no_saved_token"))


@pytest.fixture
def no_sleep(monkeypatch):
    """A retry loop would sleep: make any sleep fail the test."""

    def refuse(seconds):
        raise AssertionError(f"slept {seconds} s: a retry loop ran")

    monkeypatch.setattr(time, "sleep", refuse)


def _error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("hf-ser push:")]


def _card_section(card: str, title: str) -> str:
    return card.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_dry_run_lists_every_file_without_token_or_network(tmp_path, capsys, no_network, no_login):
    run = write_run_dir(tmp_path / "demo", demo=True)
    assert cli.main(["push", str(run), "--dry-run"]) == 0
    out = capsys.readouterr().out
    plan = plan_push(run)
    for path, data in plan.payloads.items():
        assert f"  {path} " in out and f"{len(data)} bytes" in out, path
    assert "model.safetensors" in plan.payloads and "eval/metrics.json" in plan.payloads
    assert not [p for p in plan.payloads if "manifests/" in p]  # no per-clip manifest among them
    assert "manifests/train.jsonl: per-clip manifest" in out  # and the listing says what stayed local
    assert plan.card in out  # the card, whole
    assert "nothing was sent" in out


def test_card_only_needs_no_repo_id_but_a_push_does(tmp_path, capsys):
    run = write_run_dir(tmp_path / "run")
    card = tmp_path / "card.md"
    assert cli.main(["push", str(run), "--card-only", str(card)]) == 0
    assert f"<your-org>/{run.name}" in card.read_text()  # the usage snippet names a placeholder repository
    assert cli.main(["push", str(run)]) == 2
    err = _error_lines(capsys.readouterr().err)
    assert err[0].startswith("hf-ser push: error:") and "--repo-id" in err[0] and len(err) == 2


def test_default_push_publishes_aggregates_only(tmp_path):
    run = write_run_dir(tmp_path / "run", folds=2)
    report = {"train": {"ravdess": {"found": 2, "used": 1, "skipped": [{"path": "Actor_01/x.wav", "reason": "silent"}],
                                    "reason_counts": {"silent": 1}}}}
    (run / "data_report.json").write_text(json.dumps(report))
    plan = plan_push(run, "org/x")
    texts = {p: d.decode() for p, d in plan.payloads.items() if p.endswith((".json", ".md", ".yaml"))}
    for name, text in texts.items():
        assert "ravdess/01" not in text and "Actor_01" not in text, name  # no speaker, no clip
    for name in ("eval/metrics.json", "fold_0/metrics.json"):
        protocol = json.loads(texts[name])["protocol"]
        assert "test_speakers" not in protocol and protocol["speaker_counts"] == {"test": 2, "valid": 1}
    pushed_report = json.loads(texts["eval/data_report.json"])["train"]["ravdess"]
    assert pushed_report["skipped"] == 1 and pushed_report["reason_counts"] == {"silent": 1}
    assert "2 test (their IDs are not published)" in _card_section(plan.card, "Split protocol")

    full = plan_push(run, "org/x", include_manifests=True)
    assert {"manifests/train.jsonl", "fold_1/manifests/test.jsonl"} <= set(full.payloads)
    assert "ravdess/01" in full.payloads["eval/metrics.json"].decode()


def test_include_manifests_is_refused_for_restricted_corpora(tmp_path, capsys):
    run = write_run_dir(tmp_path / "iemocap_run", corpora=("iemocap",))
    with pytest.raises(PublishRefusedError, match="iemocap"):
        plan_push(run, "org/x", include_manifests=True)
    assert cli.main(["push", str(run), "--dry-run", "--include-manifests"]) == 2
    err = _error_lines(capsys.readouterr().err)
    assert len(err) == 2 and "iemocap" in err[0] and "without --include-manifests" in err[1]
    assert "manifests/train.jsonl" not in plan_push(run, "org/x").payloads  # the default push is allowed
    check_manifests_publishable([("msp_podcast", True)])  # a synthetic demo copy is not the corpus
    with pytest.raises(PublishRefusedError, match="msp_podcast"):
        check_manifests_publishable([("ravdess", False), ("msp_podcast", False)])


def test_symbolic_links_are_never_followed(tmp_path):
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("not part of the run")
    run = write_run_dir(tmp_path / "run")
    (run / "model" / "notes.txt").symlink_to(secret)
    (run / "model" / "extra").symlink_to(secret.parent, target_is_directory=True)
    (run / "run_info.json").unlink()
    (run / "run_info.json").symlink_to(secret)
    plan = plan_push(run, "org/x")
    assert not any(b"not part of the run" in data for data in plan.payloads.values())
    assert not {"notes.txt", "extra/secret.txt", "eval/run_info.json"} & set(plan.payloads)
    left = dict(plan.left_out)
    for name in ("model/notes.txt", "model/extra", "run_info.json"):
        assert "symbolic link" in left[name], name

    linked_model = write_run_dir(tmp_path / "run2")
    os.rename(linked_model / "model", tmp_path / "elsewhere")
    (linked_model / "model").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(HubPushError, match="symbolic link"):
        plan_push(linked_model, "org/x")


def test_local_backbone_spaces_and_long_lines_are_scrubbed(tmp_path, monkeypatch):
    base = tmp_path / "My Models and Corpora, with spaces" / ("a very long folder name " * 4).strip()
    backbone = base / "wav2vec2 large (local copy)"
    backbone.mkdir(parents=True)
    root = base / "RAVDESS speech only"
    monkeypatch.chdir(tmp_path)
    run = write_run_dir(tmp_path / "run")
    recipe = yaml.safe_load((run / "recipe.resolved.yaml").read_text())
    recipe["model"]["backbone"] = str(backbone)
    recipe["data"]["corpora"][0]["root"] = str(root)
    recipe["data"]["corpora"][0]["options"] = {"manifest": str(tmp_path / "lists" / "missing.csv")}
    text = yaml.safe_dump(recipe, sort_keys=False)  # as hf_ser writes it: long values folded over lines
    assert str(root) not in text
    (run / "recipe.resolved.yaml").write_text(text)
    (run / "aggregate.md").write_text(f"trained from {backbone} on {root}/Actor_01\n")
    plan = plan_push(run, "org/x", include_manifests=True)
    for name, data in plan.payloads.items():
        if name.endswith((".yaml", ".json", ".jsonl", ".md")):
            assert str(tmp_path).encode() not in data and b"very long folder" not in data, name
    pushed = yaml.safe_load(plan.payloads["recipe.resolved.yaml"])
    assert pushed["model"]["backbone"] == "<local backbone>"
    assert pushed["data"]["corpora"][0]["root"] == "<root of ravdess>"
    assert pushed["data"]["corpora"][0]["options"]["manifest"] == "<working dir>/lists/missing.csv"
    assert plan.payloads["eval/aggregate.md"].decode() == "trained from <local backbone> on <root of ravdess>/Actor_01\n"
    assert "from a local backbone folder" in plan.card and "base_model" not in plan.card


def test_no_token_offline_or_unreachable_fails_at_once_in_one_line(tmp_path, monkeypatch, capsys, no_sleep, no_login):
    from huggingface_hub import constants

    run = write_run_dir(tmp_path / "run")
    before = sorted(p.relative_to(run) for p in run.rglob("*"))
    with pytest.raises(HubPushError, match="no Hub token"):
        push_run(run, "org/x")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(HubPushError, match="HF_HUB_OFFLINE"):
        push_run(run, "org/x", token=TOKEN)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert cli.main(["push", str(run), "--repo-id", "org/x"]) == 2
    err = _error_lines(capsys.readouterr().err)
    assert len(err) == 2 and "HF_HUB_OFFLINE" in err[0] and "Traceback" not in err[0]
    # Online but nothing listens at the endpoint: refused at once, not retried.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{port}")
    with pytest.raises(HubPushError, match="cannot reach the Hub") as excinfo:
        push_run(run, "org/x")
    assert "\n" not in str(excinfo.value) and TOKEN not in str(excinfo.value)
    assert sorted(p.relative_to(run) for p in run.rglob("*")) == before


def test_refused_token_is_one_scrubbed_line(fake_hub, tmp_path, monkeypatch):
    from huggingface_hub import HfApi

    run = write_run_dir(tmp_path / "run")
    # What the Hub says to a token it does not know: the client's 401 (the fake Hub accepts every token).
    monkeypatch.setattr(HfApi, "whoami", lambda self, **kw: (_ for _ in ()).throw(ValueError(f"401 for {TOKEN}\nsee docs")))
    with pytest.raises(HubPushError, match="refused the token") as excinfo:
        push_run(run, "org/x", token=TOKEN)
    assert TOKEN not in str(excinfo.value) and "\n" not in str(excinfo.value)
    assert not any(r.path.startswith("/api/repos/create") for r in fake_hub.requests)


def test_demo_card_names_synthetic_data_and_the_selected_step(tmp_path):
    run = write_run_dir(tmp_path / "demo", demo=True)
    card = plan_push(run, "org/demo").card
    summary = card.split("\n# demo\n", 1)[1].split("\n## ", 1)[0]
    assert "synthetic demo data" in summary and "RAVDESS (" not in summary
    assert "checkpoint at step 140 of 420, selected on validation UA" in summary
    corpora = _card_section(card, "Training corpora")
    assert "CC BY-NC-SA" not in card and "Apache-2.0 (hf_ser's own synthetic demo data)" in corpora
    assert "final model" not in card
    labels = _card_section(card, "Label set and mapping")
    assert "Label set: `4class` (4 classes). Training targets: hard: one label per training clip." in labels
    protocol = _card_section(card, "Split protocol")
    assert "Protocol `holdout_speakers`, **speaker-independent**" in protocol
    meta = yaml.safe_load(card.split("---\n")[1])
    assert meta["license"] == "apache-2.0" and "datasets" not in meta  # no real dataset claimed
    assert {r["dataset"]["type"] for r in meta["model-index"][0]["results"]} == {
        "hf_ser-synthetic-demo-ravdess", "hf_ser-synthetic-demo-crema_d"}
    results = _card_section(card, "Results")
    rows = [line for line in results.splitlines() if line.startswith("| test/") or line.startswith("| valid/")]
    assert rows and all(line.count("[") == 3 and line.rstrip(" |").count(" / ") == 2 for line in rows)  # CI x3, chance
    assert "95 % percentile bootstrap" in results and "Chance:" in results


def test_push_failing_at_the_end_of_training_leaves_the_run_and_names_the_command(fake_hub, tmp_path, monkeypatch, capsys):
    from hf_ser.commands.train import main

    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setenv("HF_SER_CACHE", str(tmp_path / "cache"))
    fake_hub.fail_paths = r"^/api/repos/create"  # the token check passes; the upload then fails for good
    fake_hub.fail_first = 10_000
    waits: list[float] = []
    # The retries' backoff (2 + 4 + 8 s), recorded instead of waited: only the retry loop's clock is replaced.
    monkeypatch.setattr(push, "time", SimpleNamespace(sleep=waits.append))
    out = tmp_path / "run"
    recipe = REPO / "recipes" / "demo" / "ravdess_tiny.yaml"
    status = main([str(recipe), f"train.output_dir={out}", "train.batch_size=4", "train.max_steps=2",
                   "push_to_hub=true", "hub_repo_id=org/demo"])
    assert waits == [2.0, 4.0, 8.0]  # the upload was retried with its backoff before the run gave up
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err
    line = next(line for line in err.splitlines() if line.startswith("train: error:"))
    assert f"hf-ser push {out} --repo-id org/demo" in line and TOKEN not in err
    assert (out / "model" / "config.json").is_file() and (out / "metrics.json").is_file()  # the run is intact
    assert json.loads((out / "metrics.json").read_text())["final_step"] == 2


def test_push_to_hub_without_a_token_fails_before_training(tmp_path, capsys, no_login):
    from hf_ser.commands.train import main

    out = tmp_path / "run"
    recipe = REPO / "recipes" / "demo" / "ravdess_tiny.yaml"
    assert main([str(recipe), f"train.output_dir={out}", "push_to_hub=true"]) == 2
    assert "no Hub token" in capsys.readouterr().err
    assert not (out / "metrics.json").exists() and not (out / "model").exists()
