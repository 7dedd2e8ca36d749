"""Confusion heatmaps and training curves are real PNG files."""

import pytest
from PIL import Image

from hf_ser.evaluation import plot_confusion, plot_curves

# These tests look at the PNGs themselves: render them (tests/conftest.py).
pytestmark = pytest.mark.real_plots

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("normalize", [False, True])
def test_plot_confusion_writes_png(tmp_path, normalize):
    path = plot_confusion([[5, 1], [0, 0]], ["anger", "neutral"], tmp_path / "sub" / "c.png", normalize=normalize, title="t")
    assert path.read_bytes()[:8] == PNG_MAGIC
    assert Image.open(path).size[0] > 100


def test_plot_confusion_refuses_mismatched_labels(tmp_path):
    with pytest.raises(ValueError, match="labels"):
        plot_confusion([[1, 0], [0, 1]], ["a"], tmp_path / "c.png", normalize=False, title="t")


def test_plot_curves_with_partial_entries(tmp_path):
    history = [
        {"step": 10, "epoch": 0.5, "train_loss": 1.4},
        {"step": 20, "epoch": 1.0, "train_loss": 1.1, "valid_loss": 1.2, "valid_ua": 0.4, "valid_wa": 0.5},
        {"step": 40, "epoch": 2.0, "train_loss": 0.9, "valid_loss": 1.0, "valid_ua": 0.5, "valid_wa": 0.55},
    ]
    path = plot_curves(history, tmp_path / "curves.png")
    width, _ = Image.open(path).size
    only_loss = plot_curves(history[:1], tmp_path / "loss.png")
    assert Image.open(only_loss).size[0] < width  # one panel instead of three


def test_plot_curves_without_metrics_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no loss/UA/WA"):
        plot_curves([{"step": 1, "lr": 0.1}], tmp_path / "x.png")
