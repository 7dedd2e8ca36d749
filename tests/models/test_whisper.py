"""Whisper encoder backbone: Whisper's own features and encoder outputs, variable lengths, freezing, loading."""

import numpy as np
import pytest
import torch
from tiny_models import ID2LABEL
from transformers import WhisperFeatureExtractor, WhisperForConditionalGeneration
from transformers.models.whisper.modeling_whisper import WhisperEncoder

from hf_ser.models import build_model, shape_config
from hf_ser.models.whisper_encoder import HOP_LENGTH


def _model(shape: str = "tiny-whisper", **kwargs):
    return build_model(backbone=f"shape:{shape}", id2label=ID2LABEL, seed=0, **kwargs)


def _speechlike(seconds: float, seed: int = 0) -> torch.Tensor:
    """A (1, samples) waveform with harmonics and an envelope, so the log-mel has structure (not white noise)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 16_000)) / 16_000
    f0 = 140 + 30 * np.sin(2 * np.pi * 0.7 * t)
    wave = sum(np.sin(2 * np.pi * k * np.cumsum(f0) / 16_000) / k for k in range(1, 8))
    wave = wave * (0.5 + 0.5 * np.sin(2 * np.pi * 2.3 * t) ** 2) + 0.01 * rng.standard_normal(t.shape)
    return torch.tensor(0.1 * wave, dtype=torch.float32).unsqueeze(0)


def _whisper_features(wave: torch.Tensor, mel_bins: int = 80) -> torch.Tensor:
    """transformers' WhisperFeatureExtractor on the clip padded to 30 s: (1, mel, 3000)."""
    extractor = WhisperFeatureExtractor(feature_size=mel_bins)
    return extractor(wave[0].numpy(), sampling_rate=16_000, return_tensors="pt").input_features


def test_log_mel_is_whisper_feature_extractor_on_the_real_frames():
    wave = _speechlike(2.345)
    model = _model()
    ours, mel_lengths = model.log_mel(wave, torch.ones_like(wave, dtype=torch.long))
    reference = _whisper_features(wave)
    frames = wave.shape[1] // HOP_LENGTH
    assert int(mel_lengths[0]) == frames
    # Frames up to two past the clip's end are what the encoder's convs read: they must match too.
    torch.testing.assert_close(ours[..., : frames + 2], reference[..., : frames + 2], rtol=0, atol=2e-4)


def test_30_s_clip_gives_the_transformers_whisper_encoder_output():
    """With a full 30-s window there is no truncation or mask: our forward is WhisperEncoder's forward."""
    wave = _speechlike(30.0)
    model = _model(layers="last").eval()
    with torch.no_grad():
        ours, frame_mask = model.encode(wave)
        reference = model.backbone(input_features=_whisper_features(wave)).last_hidden_state
    assert ours.shape == reference.shape == (1, 1500, 32) and bool(frame_mask.all())
    # All but the last frame: Whisper's STFT reflects the signal at the 30-s boundary where we pad zeros (the
    # one place a clip of 30 s or more sees something else; the last frame differs by about 1e-3).
    torch.testing.assert_close(ours[:, :-1], reference[:, :-1], rtol=0, atol=5e-4)


def test_short_clip_conv_frames_equal_those_of_the_30_s_window():
    """Truncating the positions changes nothing below attention: the clip's conv frames are Whisper's."""
    wave = _speechlike(1.37)
    model = _model().eval()
    seen = {}
    handle = model.backbone.layers[0].register_forward_pre_hook(lambda module, args: seen.update(x=args[0]))
    with torch.no_grad():
        _, frame_mask = model.encode(wave)
        encoder = model.backbone
        conv = torch.nn.functional.gelu(encoder.conv2(torch.nn.functional.gelu(encoder.conv1(_whisper_features(wave)))))
        reference = conv.transpose(1, 2) + encoder.embed_positions.weight
    handle.remove()
    frames = int(frame_mask.sum())
    assert frames == -(-(wave.shape[1] // HOP_LENGTH) // 2)
    torch.testing.assert_close(seen["x"][:, :frames], reference[:, :frames], rtol=0, atol=5e-4)


@pytest.mark.parametrize("layers", ["last", "weighted", 2])
@pytest.mark.parametrize("pooling", ["mean", "stats", "attention"])
def test_padding_never_changes_a_clips_output(layers, pooling):
    clips = [_speechlike(1.0, seed=1), _speechlike(0.43, seed=2), _speechlike(2.01, seed=3)]
    longest = max(c.shape[1] for c in clips) + 960  # extra padding beyond the longest clip too
    values = torch.zeros(len(clips), longest)
    mask = torch.zeros(len(clips), longest, dtype=torch.long)
    for row, clip in enumerate(clips):
        values[row, : clip.shape[1]], mask[row, : clip.shape[1]] = clip[0], 1
    model = _model(num_frozen_layers=1, layers=layers, pooling=pooling).eval()
    with torch.no_grad():
        in_batch = model(values, attention_mask=mask).logits
        alone = torch.cat([model(clip).logits for clip in clips])
    torch.testing.assert_close(in_batch, alone, rtol=1e-4, atol=1e-5)


def test_freezing_cut_and_trainable_parts():
    model = _model(num_frozen_layers=2)
    encoder = model.backbone
    below_cut = [encoder.conv1, encoder.conv2, encoder.embed_positions, *encoder.layers[:2]]
    frozen = {id(p) for module in below_cut for p in module.parameters()}
    for param in model.parameters():
        assert param.requires_grad == (id(param) not in frozen)
    assert not encoder.layers[1].training and encoder.layers[2].training
    # The sinusoidal positions never train, even without any freezing.
    assert not _model(freeze_feature_encoder=False).backbone.embed_positions.weight.requires_grad
    assert _model(freeze_feature_encoder=False).backbone.conv1.weight.requires_grad


def test_frozen_output_cache_path_gives_the_same_logits():
    wave = _speechlike(1.5)
    model = _model(num_frozen_layers=2).eval()
    assert model.frozen_output_cacheable() is None
    with torch.no_grad():
        hidden, frame_mask = model.frozen_features(wave)
        torch.testing.assert_close(model.forward_from_frozen(hidden, frame_mask).logits, model(wave).logits)


def test_clips_longer_than_30_s_are_cut_to_their_first_30_s():
    wave = _speechlike(30.5)
    model = _model().eval()
    with torch.no_grad():
        features, frame_mask = model.encode(wave)
        first_30_s = model.encode(wave[:, : 30 * 16_000])[0]
    assert features.shape[1] == 1500
    torch.testing.assert_close(features, first_30_s)


def test_spec_augment_is_refused_for_whisper():
    with pytest.raises(ValueError, match="mask_time_prob"):
        _model(mask_time_prob=0.05)


def test_encoder_weights_load_from_a_whisper_checkpoint(tmp_path):
    """Any Whisper checkpoint (here a full encoder-decoder saved locally) gives its encoder's weights."""
    config = shape_config("tiny-whisper")
    config.update({"decoder_layers": 1, "decoder_ffn_dim": 16, "decoder_attention_heads": 2})
    full = WhisperForConditionalGeneration(config)
    full.save_pretrained(tmp_path)
    model = build_model(backbone=str(tmp_path), id2label=ID2LABEL, layers=3)
    assert len(model.backbone.layers) == 3
    reference = full.model.encoder.state_dict()
    for name, tensor in model.backbone.state_dict().items():
        torch.testing.assert_close(tensor, reference[name], rtol=0, atol=0)
    assert model.config.backbone_config._name_or_path == str(tmp_path)


def test_whisper_shapes_are_the_real_architectures():
    large, tiny = shape_config("whisper-large-v3"), shape_config("whisper-tiny")
    assert (large.num_hidden_layers, large.d_model, large.encoder_ffn_dim, large.encoder_attention_heads) == (32, 1280, 5120, 20)
    assert (tiny.num_hidden_layers, tiny.d_model, tiny.encoder_ffn_dim, tiny.encoder_attention_heads) == (4, 384, 1536, 6)
    assert (large.num_mel_bins, tiny.num_mel_bins, large.max_source_positions) == (128, 80, 1500)
    with torch.device("meta"):
        encoder = WhisperEncoder(large)
    # Convs 5,409,280 + positions 1,920,000 + 32 layers x 19,676,160 + final norm 2,560 (k_proj has no bias).
    assert sum(p.numel() for p in encoder.parameters()) == 636_968_960
