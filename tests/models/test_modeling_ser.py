import pytest
import torch
from tiny_models import ID2LABEL, PADDING_INVARIANT_SHAPES, TINY_SHAPES
from transformers import AutoConfig, AutoModel, AutoModelForAudioClassification

from hf_ser.models import (
    POOLING,
    SerConfig,
    SerForSequenceClassification,
    build_model,
    concordance_correlation_loss,
    shape_config,
)


def _model(shape: str = "tiny", **kwargs) -> SerForSequenceClassification:
    return build_model(backbone=f"shape:{shape}", id2label=ID2LABEL, seed=0, **kwargs)


@pytest.mark.parametrize("shape", TINY_SHAPES)
def test_logits_shape_and_loss_for_every_family(shape, padded_batch):
    input_values, attention_mask, _ = padded_batch
    model = _model(shape, num_frozen_layers=1)
    out = model(input_values, attention_mask=attention_mask, labels=torch.tensor([0, 3]))
    assert out.logits.shape == (2, len(ID2LABEL))
    assert out.loss.ndim == 0 and torch.isfinite(out.loss)


@pytest.mark.parametrize("shape", PADDING_INVARIANT_SHAPES)
@pytest.mark.parametrize("layers", ["last", "weighted", 2])
def test_padding_does_not_change_logits(shape, layers, padded_batch):
    input_values, attention_mask, short = padded_batch
    model = _model(shape, num_frozen_layers=1, layers=layers, pooling="attention").eval()
    with torch.no_grad():
        in_batch = model(input_values, attention_mask=attention_mask).logits
        alone = model(input_values[1:, :short]).logits
        full = model(input_values[:1]).logits
    torch.testing.assert_close(in_batch[1:], alone, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(in_batch[:1], full, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("pooling", sorted(POOLING))
def test_padding_invariance_for_every_pooling_head(pooling, padded_batch):
    input_values, attention_mask, short = padded_batch
    model = _model("tiny", pooling=pooling).eval()
    with torch.no_grad():
        in_batch = model(input_values, attention_mask=attention_mask).logits
        alone = model(input_values[1:, :short]).logits
    torch.testing.assert_close(in_batch[1:], alone, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shape", TINY_SHAPES)
def test_save_load_round_trip_gives_identical_logits(shape, tmp_path, padded_batch):
    input_values, attention_mask, _ = padded_batch
    model = _model(shape, num_frozen_layers=2, layers="weighted", pooling="stats", head_hidden_size=16).eval()
    model.save_pretrained(tmp_path)
    loaded = AutoModelForAudioClassification.from_pretrained(tmp_path).eval()
    assert isinstance(loaded, SerForSequenceClassification)
    assert loaded.config.backbone_config.model_type == model.config.backbone_config.model_type
    assert loaded.config.id2label == ID2LABEL
    with torch.no_grad():
        expected = model(input_values, attention_mask=attention_mask).logits
        actual = loaded(input_values, attention_mask=attention_mask).logits
    torch.testing.assert_close(actual, expected, rtol=0, atol=0)
    # freezing is rebuilt from the config
    assert [p.requires_grad for p in loaded.parameters()] == [p.requires_grad for p in model.parameters()]


def test_config_is_registered_with_auto_classes(tmp_path):
    config = SerConfig(backbone_config=shape_config("tiny"), id2label=ID2LABEL, pooling="max")
    config.save_pretrained(tmp_path)
    loaded = AutoConfig.from_pretrained(tmp_path)
    assert isinstance(loaded, SerConfig) and loaded.pooling == "max"
    assert loaded.backbone_config.hidden_size == shape_config("tiny").hidden_size


def test_int_layers_drop_the_layers_above():
    model = _model("tiny", layers=2)
    assert len(model.backbone.encoder.layers) == 2
    assert model.config.backbone_config.num_hidden_layers == 2
    with pytest.raises(ValueError, match="layers=9"):
        _model("tiny", layers=9)


def test_weighted_layers_learn_one_weight_per_hidden_state(padded_batch):
    input_values, attention_mask, _ = padded_batch
    model = _model("tiny", layers="weighted")
    depth = model.config.backbone_config.num_hidden_layers
    assert model.layer_weights.shape == (depth + 1,)
    model(input_values, attention_mask=attention_mask, labels=torch.tensor([1, 2])).loss.backward()
    assert model.layer_weights.grad.abs().sum() > 0


def test_weighted_layers_with_one_hot_weight_equal_that_layer(padded_batch):
    input_values, attention_mask, _ = padded_batch
    weighted = _model("tiny", layers="weighted").eval()
    truncated = _model("tiny", layers=2).eval()
    truncated.backbone.load_state_dict(weighted.backbone.state_dict(), strict=False)
    with torch.no_grad():
        weighted.layer_weights.copy_(torch.tensor([-1e4, -1e4, 0.0, -1e4, -1e4]))
        expected, _ = truncated.encode(input_values, attention_mask)
        actual, _ = weighted.encode(input_values, attention_mask)
    # stable layer norm: hidden state 2 of the full model is the raw residual stream, the truncated model
    # normalises its last layer, so compare after the final layer norm.
    norm = weighted.backbone.encoder.layer_norm
    with torch.no_grad():
        torch.testing.assert_close(norm(actual), expected, rtol=1e-4, atol=1e-4)


def test_regression_task_uses_ccc_loss(padded_batch):
    input_values, attention_mask, _ = padded_batch
    dims = ("valence", "arousal", "dominance")
    model = build_model(backbone="shape:tiny", id2label={}, task="regression", dims=dims, seed=0)
    targets = torch.tensor([[0.1, 0.5, 0.9], [0.7, 0.2, 0.4]])
    out = model(input_values, attention_mask=attention_mask, dims=targets)
    assert out.dims.shape == (2, 3) and torch.equal(out.logits, out.dims)
    torch.testing.assert_close(out.loss, concordance_correlation_loss(out.dims, targets))
    assert model.config.id2label == dict(enumerate(dims))


def test_multitask_loss_is_weighted_sum(padded_batch):
    input_values, attention_mask, _ = padded_batch
    model = _model("tiny", task="multitask", dims=("arousal",), regression_loss_weight=0.5).eval()
    labels, targets = torch.tensor([0, 1]), torch.tensor([[0.2], [0.8]])
    out = model(input_values, attention_mask=attention_mask, labels=labels, dims=targets)
    expected = torch.nn.functional.cross_entropy(out.logits, labels) + 0.5 * concordance_correlation_loss(
        out.dims, targets
    )
    torch.testing.assert_close(out.loss, expected)


def test_class_weights_and_label_smoothing_change_the_loss(padded_batch):
    input_values, attention_mask, _ = padded_batch
    labels = torch.tensor([0, 3])
    plain = _model("tiny").eval()(input_values, attention_mask=attention_mask, labels=labels)
    weighted = _model("tiny", class_weights=[4.0, 1.0, 1.0, 1.0], label_smoothing=0.1).eval()
    out = weighted(input_values, attention_mask=attention_mask, labels=labels)
    torch.testing.assert_close(out.logits, plain.logits)
    expected = torch.nn.functional.cross_entropy(
        out.logits, labels, weight=torch.tensor([4.0, 1.0, 1.0, 1.0]), label_smoothing=0.1
    )
    torch.testing.assert_close(out.loss, expected)
    assert not torch.isclose(out.loss, plain.loss)


def test_ccc_loss_is_zero_for_perfect_and_two_for_mirrored_predictions():
    targets = torch.tensor([[0.0], [1.0], [2.0]])
    assert concordance_correlation_loss(targets.clone(), targets).item() == pytest.approx(0.0, abs=1e-6)
    assert concordance_correlation_loss(-targets + 2.0, targets).item() == pytest.approx(2.0, abs=1e-6)


def test_invalid_options_fail_with_the_valid_choices():
    with pytest.raises(KeyError, match="tiny-wavlm"):
        _model("tiny-unknown")
    with pytest.raises(ValueError, match="task"):
        _model("tiny", task="ranking")
    with pytest.raises(ValueError, match="freeze_feature_encoder"):
        _model("tiny", num_frozen_layers=1, freeze_feature_encoder=False)
    with pytest.raises(KeyError, match="attention"):
        _model("tiny", pooling="avg")


def test_xlsr_shapes_are_the_real_architecture():
    for name in ("xlsr-53", "xls-r-300m"):
        config = shape_config(name)
        assert (config.num_hidden_layers, config.hidden_size, config.intermediate_size) == (24, 1024, 4096)
        assert config.num_attention_heads == 16 and config.do_stable_layer_norm
        assert config.feat_extract_norm == "layer" and tuple(config.conv_stride) == (5, 2, 2, 2, 2, 2, 2)
        assert (config.num_conv_pos_embeddings, config.num_conv_pos_embedding_groups) == (128, 16)
        with torch.device("meta"):
            backbone = AutoModel.from_config(config)
        # 315.4 M parameters, as derived in docs/performance.md
        assert sum(p.numel() for p in backbone.parameters()) == 315_438_720
