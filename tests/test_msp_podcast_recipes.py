"""The MSP-Podcast challenge recipes run end to end on a fake release (tiny model, few steps)."""

from __future__ import annotations

import json
from pathlib import Path

from audio_fixtures import write_wav

REPO = Path(__file__).parents[1]
CODES = "ASHUFDCN"  # the challenge's 8 classes, as consensus codes
WORDS = {"A": "Angry", "S": "Sad", "H": "Happy", "U": "Surprise", "F": "Fear", "D": "Disgust", "C": "Contempt",
         "N": "Neutral"}


def _release(root: Path) -> Path:
    """8 classes x (3 Train + 1 Development + 1 Test1) clips, one speaker per split side, plus O and X clips."""
    consensus = ["FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set"]
    detailed = ["FileName,WorkerID,EmoClass_Major,EmoClass_Second,EmoAct,EmoVal,EmoDom"]
    plan = [("Train", 3, "1"), ("Train", 3, "2"), ("Development", 1, "3"), ("Test1", 1, "4"), ("Test1", 1, "5")]
    n = 0
    for split, per_class, spk in plan:
        for k, code in enumerate(CODES + ("OX" if split == "Train" else "")):
            for _ in range(per_class):
                n += 1
                name = f"MSP-PODCAST_{int(spk):04d}_{n:04d}.wav"
                write_wav(root / "Audios" / name, seconds=0.5, freq_hz=150 + 40 * k, seed=n)
                consensus.append(f"{name},{code},{1 + k % 7},{1 + (k + 3) % 7},{1 + (k + 5) % 7},{spk},Female,{split}")
                # Three annotators: two pick the consensus class, one the next class (or Other).
                first = WORDS.get(code, "Other-bored")
                second = WORDS[CODES[(k + 1) % 8]]
                for w, word in enumerate((first, first, second)):
                    detailed.append(f'{name},WORKER{w:08d},{word},"",4.0,4.0,4.0')
    # Transcripts for every other clip (the release's optional Transcripts/<clip>.txt): the rest have none.
    for line in consensus[1::2]:
        name = line.split(",")[0]
        (root / "Transcripts").mkdir(parents=True, exist_ok=True)
        (root / "Transcripts" / name.replace(".wav", ".txt")).write_text(f"words of {name}\n")
    (root / "Labels").mkdir(parents=True)
    (root / "Labels" / "labels_consensus.csv").write_text("\n".join(consensus) + "\n")
    (root / "Labels" / "labels_detailed.csv").write_text("\n".join(detailed) + "\n")
    return root


def _train(recipe: str, tmp_path: Path, monkeypatch, *extra: str) -> dict:
    from hf_ser.train import main

    root = _release(tmp_path / "msp")
    out = tmp_path / "run"
    monkeypatch.setenv("HF_SER_CACHE", str(tmp_path / "cache"))
    argv = [
        str(REPO / "recipes" / "msp_podcast" / recipe), f"train.output_dir={out}", f"data.corpora.0.root={root}",
        "model.backbone=shape:tiny", "model.head_hidden_size=null", "train.max_steps=2", "train.batch_size=8",
        "train.max_batch_audio_s=null", "train.eval_every_n_steps=null", *extra,
    ]
    assert main(argv) == 0
    return json.loads((out / "metrics.json").read_text())


def test_categorical_recipe_with_soft_targets_and_focal_loss(tmp_path, monkeypatch):
    metrics = _train("categorical.yaml", tmp_path, monkeypatch, "model.targets=soft", "model.loss=focal")
    proto = metrics["protocol"]
    assert proto["labels"] == sorted(["anger", "happiness", "sadness", "fear", "surprise", "contempt", "disgust", "neutral"])
    assert proto["counts"] == {"train": 48, "valid": 8, "test": 16}  # O and X clips are not categorical
    assert (proto["targets"], proto["targets_with_votes"], proto["loss"]) == ("soft", 48, "focal")
    assert proto["class_weights"] == "balanced"
    balanced = metrics["results"]["test_balanced/msp_podcast"]
    assert balanced["n"] == 16 and set(balanced["support"].values()) == {2}
    assert "distribution" in metrics["results"]["test/msp_podcast"]


def test_dimensional_recipe_scores_ccc_on_every_clip(tmp_path, monkeypatch):
    metrics = _train("dimensional.yaml", tmp_path, monkeypatch)
    assert metrics["protocol"]["counts"]["train"] == 48 + 2 * 2 * 3  # O and X clips (2 codes x 2 speakers x 3) have attributes: kept
    test = metrics["results"]["test/msp_podcast"]
    assert set(test["dims"]["per_dim"]) == {"arousal", "valence", "dominance"} and "ccc" in test


def test_categorical_fusion_recipe_trains_speech_plus_text_on_the_transcripts(tmp_path, monkeypatch):
    metrics = _train(
        "categorical_fusion.yaml", tmp_path, monkeypatch, "model.text_encoder=shape:tiny-bert",
        "data.transcripts={asr: shape:tiny-whisper}",
    )
    assert metrics["protocol"]["modality"] == "speech+text"
    # Clips without a Transcripts/ file got one by ASR at preparation; the report names the recogniser.
    report = json.loads((tmp_path / "run" / "data_report.json").read_text())["transcripts"]["train"]
    assert report["asr"] == "shape:tiny-whisper"
    counts = report["corpora"]["msp_podcast"]
    assert counts["own"] > 0 and counts["transcribed"] > 0 and sum(counts.values()) == 72
    assert metrics["protocol"]["counts"] == {"train": 48, "valid": 8, "test": 16}
    assert metrics["results"]["test_balanced/msp_podcast"]["n"] == 16
