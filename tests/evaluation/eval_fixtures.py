"""Helpers for evaluation tests: a tiny random audio classifier and a fake corpus loader."""

from pathlib import Path

import torch
from audio_fixtures import write_corrupt, write_wav
from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2ForSequenceClassification

from hf_ser.corpora._base import Clip, build_dataset, iter_files, require_root

MODEL_LABELS = ["anger", "calm", "happiness", "neutral"]


def tiny_classifier(labels=MODEL_LABELS, seed=0) -> Wav2Vec2ForSequenceClassification:
    torch.manual_seed(seed)
    config = Wav2Vec2Config(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        conv_dim=(16, 16, 16),
        conv_stride=(5, 4, 4),
        conv_kernel=(10, 8, 8),
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
        feat_extract_norm="layer",
        do_stable_layer_norm=True,
        classifier_proj_size=16,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={lab: i for i, lab in enumerate(labels)},
    )
    return Wav2Vec2ForSequenceClassification(config)


def save_model(model, path: Path) -> Path:
    model.save_pretrained(path)
    Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16_000, do_normalize=True, return_attention_mask=True).save_pretrained(path)
    return path


# Fake corpus: <root>/<speaker>_<label>_<n>.wav; speakers f* are female; language "en".
FAKE_FILES = [
    ("f1", "anger", "tone"),
    ("f1", "happiness", "tone"),
    ("f1", "neutral", "tone"),
    ("m2", "anger", "tone"),
    ("m2", "happiness", "tone"),
    ("m2", "neutral", "tone"),
    ("m2", "happiness", "silence"),  # decodes fine, must be skipped as silent at evaluation time
    ("f1", "surprise", "tone"),  # the model has no "surprise" class
]


def load_fake(root, *, label_set="all", label_map=None, skip_log=None, **options):
    root = require_root(root, "fake", "<speaker>_<label>_<n>.wav")
    clips = []
    for path in iter_files(root, "*.wav"):
        speaker, label, _ = path.stem.split("_")
        gender = "female" if speaker.startswith("f") else "male"
        clips.append(Clip(path=path, utt_id=path.stem, emotion=label, orig_label=label, speaker=speaker, gender=gender, language="en"))
    return build_dataset("fake", root, clips, label_set=label_set, label_map=label_map, skip_log=skip_log)


def write_fake_corpus(root: Path) -> Path:
    for n, (speaker, label, kind) in enumerate(FAKE_FILES):
        write_wav(root / f"{speaker}_{label}_{n}.wav", seconds=0.3 + 0.1 * n, freq_hz=200 + 40 * n, kind=kind, seed=n)
    write_corrupt(root / "m2_sadness_99.wav")  # unreadable header: skipped by the loader, reported
    return root


