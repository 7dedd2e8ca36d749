"""The README's "Calibrated answers that can abstain" lines, run as written from a folder laid out like the
repository: the 4-class demo recipe trains, and `hf-ser predict --min-confidence 0.9` answers on the demo files it
is sure of and abstains on the rest, every answer at or above the threshold and every abstention below it."""

from __future__ import annotations

import csv
import json
import re
import shlex
from pathlib import Path

import pytest

from hf_ser.inference.results import ABSTAIN

REPO = Path(__file__).parents[1]
SECTION = "## Calibrated answers that can abstain"
# RAVDESS file names: modality-channel-EMOTION-intensity-statement-repetition-ACTOR; the 4-class set's codes.
RAVDESS_4CLASS = {"01": "neutral", "03": "happiness", "04": "sadness", "05": "anger"}


def _readme_lines() -> list[str]:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index(SECTION) :]
    section = section[: section.index("\n## ", 1)]
    (block,) = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [line for line in block.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def answered(tmp_path_factory):
    """Runs the README's lines in a folder with the repository's recipes/ and demo data; returns that folder, the
    predict rows and the summary line."""
    from hf_ser.commands import main as hf_ser_main
    from hf_ser.train import main as train_main

    work = tmp_path_factory.mktemp("repo")
    (work / "recipes").symlink_to(REPO / "recipes")
    (work / "hf_ser").mkdir()
    (work / "hf_ser" / "demo_data").symlink_to(REPO / "hf_ser" / "demo_data")
    train_line, predict_line = _readme_lines()
    with pytest.MonkeyPatch.context() as monkeypatch:  # module-scoped: one training run for the module's tests
        monkeypatch.chdir(work)
        monkeypatch.setenv("HF_SER_CACHE", str(work / "cache"))
        words = shlex.split(train_line)
        assert words[:3] == ["python", "-m", "hf_ser.train"]
        assert train_main(words[3:]) == 0
        words = shlex.split(predict_line)
        assert words[0] == "hf-ser" and "--min-confidence" in words
        assert hf_ser_main([*words[1:], "--no-progress"]) == 0
        output = work / words[words.index("--output") + 1]
        with output.open() as f:
            rows = list(csv.DictReader(f))
    return work, rows, float(words[words.index("--min-confidence") + 1])


def _top(row: dict) -> float:
    return max(float(v) for k, v in row.items() if k.startswith("p_"))


def test_predict_abstains_on_some_demo_files_and_labels_the_rest(answered):
    work, rows, threshold = answered
    files = sorted((REPO / "hf_ser" / "demo_data" / "ravdess").rglob("*.wav"))
    assert len(rows) == len(files) and not any(row["error"] for row in rows)
    abstained = [row for row in rows if row["label"] == ABSTAIN]
    labelled = [row for row in rows if row["label"] != ABSTAIN]
    assert abstained and labelled
    assert all(_top(row) >= threshold for row in labelled)
    assert all(_top(row) < threshold for row in abstained)
    # A labelled row names its most probable class.
    assert all(row[f"p_{row['label']}"] == max((v for k, v in row.items() if k.startswith("p_")), key=float) for row in labelled)


def test_answers_on_held_out_voices_are_more_often_right_than_all_answers(answered):
    """What abstention is for: on the run's test voices (never seen in training or selection), the clips the model
    answers at the threshold are at least as often right as all clips of the 4 classes."""
    work, rows, threshold = answered
    metrics = json.loads((work / "runs" / "demo_4class" / "metrics.json").read_text())
    assert metrics["protocol"]["label_set"].startswith("4class")
    test_actors = {s.split("/")[1] for s in metrics["protocol"]["test_speakers"]}
    scored = []
    for row in rows:
        parts = Path(row["source"]).stem.split("-")
        if parts[6] in test_actors and parts[2] in RAVDESS_4CLASS:
            probabilities = {k[2:]: float(v) for k, v in row.items() if k.startswith("p_")}
            truth = RAVDESS_4CLASS[parts[2]]
            scored.append((max(probabilities, key=probabilities.get) == truth, row["label"] != ABSTAIN))
    assert len(scored) == metrics["results"]["test/ravdess"]["n"]
    answered_right = [right for right, answered in scored if answered]
    overall = sum(right for right, _ in scored) / len(scored)
    assert answered_right, "no test clip reached the threshold"
    assert sum(answered_right) / len(answered_right) >= overall
    # The run's own report says the same at 50 % coverage (the most confident half of the test clips).
    coverage = metrics["results"]["test/ravdess"]["accuracy_at_coverage"]
    assert coverage["50"] >= coverage["100"]
