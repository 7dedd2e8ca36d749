"""A tiny random audio classifier and a fake run directory laid out as hf_ser's trainer writes it.

The model is a stock ``Wav2Vec2ForSequenceClassification`` (hidden 32, 2 layers) so that the hub and predict
tests do not depend on hf_ser's own model package; the push code is generic over whatever ``model/`` holds.
A small ``custom_head.py`` code file sits in ``model/`` to check that code files travel with the weights.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import yaml

LABELS = ["angry", "happy", "neutral", "sad"]


def write_tiny_model(model_dir: str | Path, labels: list[str] = LABELS, seed: int = 0) -> Path:
    """Save a random tiny wav2vec2 classifier + feature extractor with ``save_pretrained``."""
    import torch
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2ForSequenceClassification

    torch.manual_seed(seed)
    config = Wav2Vec2Config(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        conv_dim=(16, 16, 16),
        conv_stride=(5, 4, 4),
        conv_kernel=(10, 4, 4),
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
        feat_extract_norm="layer",
        do_stable_layer_norm=True,
        classifier_proj_size=16,
        id2label=dict(enumerate(labels)),
        label2id={lab: i for i, lab in enumerate(labels)},
    )
    model = Wav2Vec2ForSequenceClassification(config).eval()
    # Random init gives near-uniform logits; scale the classifier so predictions differ between inputs.
    with torch.no_grad():
        model.classifier.weight.mul_(50.0)
    model_dir = Path(model_dir)
    model.save_pretrained(model_dir)
    Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=16_000, padding_value=0.0, do_normalize=True, return_attention_mask=True
    ).save_pretrained(model_dir)
    (model_dir / "custom_head.py").write_text('"""Stands in for the model code saved for trust_remote_code."""\n')
    return model_dir


def write_run_dir(
    run_dir: str | Path,
    *,
    corpora: tuple[str, ...] = ("ravdess",),
    cross: tuple[str, ...] = ("crema_d",),
    folds: int = 0,
    demo: bool = False,
) -> Path:
    """Write a run directory with a tiny model, recipe, metrics, manifests and (optionally) folds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run_dir = Path(run_dir)
    write_tiny_model(run_dir / "model")
    root = "hf_ser/demo_data/ravdess" if demo else "/data/ravdess"
    recipe = {
        "name": run_dir.name,
        "data": {
            "corpora": [{"name": c, "root": root, "label_map": {}} for c in corpora],
            "label_set": "4class",
            "protocol": "holdout_speakers",
        },
        "model": {"backbone": "facebook/wav2vec2-large-xlsr-53", "pooling": "mean"},
        "train": {"epochs": 1, "lr": 1e-4},
    }
    if demo:  # as recipes/demo/ravdess_tiny.yaml: the cross-corpus targets are demo copies too
        recipe["data"]["eval_corpora"] = [{"name": c, "root": f"hf_ser/demo_data/{c}"} for c in cross]
    (run_dir / "recipe.resolved.yaml").write_text(yaml.safe_dump(recipe, sort_keys=False))
    (run_dir / "run_info.json").write_text(json.dumps({"torch": "2.11.0", "git_commit": "abc1234"}))
    (run_dir / "data_report.json").write_text(json.dumps({"ravdess": {"found": 8, "used": 8}}))

    rng = np.random.default_rng(0)

    def scored(n: int) -> dict:
        # A confusion matrix as training stores it, with the figures computed from it.
        from hf_ser.metrics.scores import scores_from_confusion

        confusion = rng.multinomial(n // len(LABELS), [1 / len(LABELS)] * len(LABELS), size=len(LABELS))
        confusion += np.eye(len(LABELS), dtype=int) * rng.integers(2, 8, size=len(LABELS))
        scores = scores_from_confusion(confusion)
        return {"wa": float(scores["wa"]), "ua": float(scores["ua"]), "macro_f1": float(scores["macro_f1"]),
                "n": int(confusion.sum()), "confusion": confusion.tolist(), "labels": LABELS}

    def metrics(fold):
        results = {}
        for c in corpora:
            for split in ("test", "valid"):
                results[f"{split}/{c}"] = scored(48)
        for c in cross:
            results[f"cross/{c}"] = scored(120)
        protocol = {
            "corpora": list(corpora), "protocol": "holdout_speakers", "fold": fold, "speaker_independent": True,
            "label_set": "4class", "labels": LABELS, "targets": "hard", "test_speakers": ["ravdess/01", "ravdess/02"],
            "valid_speakers": ["ravdess/03"],
        }
        return {"protocol": protocol, "results": results, "best_step": 140, "final_step": 420}

    def manifests(out: Path):
        (out / "manifests").mkdir(parents=True, exist_ok=True)
        for split in ("train", "valid", "test"):
            rows = [
                {"utt_id": f"{split}{i}", "corpus": corpora[0], "rel_path": f"Actor_01/{split}{i}.wav",
                 "label": lab, "orig_label": {"angry": "05", "happy": "03", "neutral": "01", "sad": "04"}[lab],
                 "speaker": "01", "language": "en"}
                for i, lab in enumerate(LABELS)
            ]
            (out / "manifests" / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))

    def figure(path: Path):
        fig, ax = plt.subplots(figsize=(2, 2))
        ax.imshow(rng.uniform(size=(4, 4)))
        fig.savefig(path)
        plt.close(fig)

    (run_dir / "metrics.json").write_text(json.dumps(metrics(None if folds else 0)))
    manifests(run_dir)
    figure(run_dir / f"confusion_test_{corpora[0]}.png")
    figure(run_dir / f"reliability_test_{corpora[0]}.png")
    figure(run_dir / "curves.png")
    for k in range(folds):
        fold = run_dir / f"fold_{k}"
        fold.mkdir()
        (fold / "metrics.json").write_text(json.dumps(metrics(k)))
        manifests(fold)
        figure(fold / f"confusion_test_{corpora[0]}.png")
    if folds:
        (run_dir / "aggregate.json").write_text(json.dumps({"folds": folds}))
        (run_dir / "aggregate.md").write_text(f"{folds} folds\n")
    return run_dir
