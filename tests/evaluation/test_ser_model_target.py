"""hf_ser's own model class, saved and reloaded through the Auto classes, goes through `hf-ser evaluate`."""

import argparse
import json

from hf_ser import models
from hf_ser.commands import evaluate as cli


def test_saved_ser_model_is_evaluated(tmp_path, fake_corpus):
    model = models.build_model(backbone="shape:tiny", id2label={0: "anger", 1: "happiness", 2: "neutral"}, seed=0)
    model_dir = tmp_path / "run" / "model"
    model.save_pretrained(model_dir)
    models.build_feature_extractor().save_pretrained(model_dir)
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args([str(model_dir), "--corpus", "fake", str(fake_corpus), "--n-boot", "0", "--no-progress"])
    assert cli.run(args) == 0
    report = json.loads((tmp_path / "run" / "eval_fake" / "report.json").read_text())
    res = report["results"]["fake"]
    assert res["model_labels"] == ["anger", "happiness", "neutral"]
    assert res["masked"]["n"] == 6
    # Without a run's metrics.json the source corpora are unknown, and the report says so.
    assert res["context"]["speaker_independent"].startswith("unknown")
