import pytest
import torch
from tiny_models import ID2LABEL, TINY_SHAPES, WAV2VEC2_TINY_SHAPES, encoder_layers

from hf_ser.models import build_model


def _model(shape: str = "tiny", **kwargs):
    return build_model(backbone=f"shape:{shape}", id2label=ID2LABEL, seed=0, **kwargs)


def _trainable(model) -> set[str]:
    return {name for name, p in model.named_parameters() if p.requires_grad}


@pytest.mark.parametrize("shape", WAV2VEC2_TINY_SHAPES)
def test_frozen_parameter_counts(shape):
    model = _model(shape, num_frozen_layers=2)
    backbone = model.backbone
    below_cut = [backbone.feature_extractor, backbone.feature_projection, backbone.encoder.pos_conv_embed]
    below_cut += list(backbone.encoder.layers[:2])
    expected_frozen = sum(p.numel() for module in below_cut for p in module.parameters())
    if not getattr(backbone.config, "do_stable_layer_norm", False):
        expected_frozen += sum(p.numel() for p in backbone.encoder.layer_norm.parameters())
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    assert frozen == expected_frozen
    assert all(p.requires_grad for layer in backbone.encoder.layers[2:] for p in layer.parameters())
    assert all(p.requires_grad for p in model.pooling.parameters())


def test_feature_encoder_only_freezing_keeps_projection_trainable():
    model = _model("tiny", num_frozen_layers=0)
    assert not any(p.requires_grad for p in model.backbone.feature_extractor.parameters())
    assert all(p.requires_grad for p in model.backbone.feature_projection.parameters())
    unfrozen = _model("tiny", num_frozen_layers=0, freeze_feature_encoder=False)
    assert all(p.requires_grad for p in unfrozen.parameters())


@pytest.mark.parametrize("shape", TINY_SHAPES)
def test_frozen_part_builds_no_graph(shape, padded_batch):
    input_values, attention_mask, _ = padded_batch
    model = _model(shape, num_frozen_layers=2, mask_time_prob=0.0).train()
    seen = {}

    def record(module, args, kwargs):
        hidden = args[0] if args else kwargs["hidden_states"]
        seen["requires_grad"], seen["grad_fn"] = hidden.requires_grad, hidden.grad_fn

    handle = encoder_layers(model)[2].register_forward_pre_hook(record, with_kwargs=True)
    model(input_values, attention_mask=attention_mask, labels=torch.tensor([0, 1])).loss.backward()
    handle.remove()
    assert seen == {"requires_grad": False, "grad_fn": None}


def test_spec_augment_is_applied_at_the_cut(padded_batch):
    input_values, attention_mask, _ = padded_batch
    model = _model("tiny", num_frozen_layers=2, mask_time_prob=0.5).train()
    seen = {}
    handle = model.backbone.encoder.layers[2].register_forward_pre_hook(
        lambda module, args: seen.update(requires_grad=args[0].requires_grad)
    )
    model(input_values, attention_mask=attention_mask, labels=torch.tensor([0, 1])).loss.backward()
    handle.remove()
    # the only graph below the first trainable layer is the masking embedding itself
    assert seen["requires_grad"]
    assert model.backbone.masked_spec_embed.grad is not None
    assert all(p.grad is None for p in model.backbone.feature_projection.parameters())


@pytest.mark.parametrize("shape", ["tiny", "tiny-wavlm", "tiny-data2vec-audio"])
def test_gradients_match_the_requires_grad_only_path(shape, padded_batch):
    """True no-grad freezing gives the same gradients as freezing by requires_grad=False alone."""
    input_values, attention_mask, _ = padded_batch
    labels = torch.tensor([1, 2])
    fast = _model(shape, num_frozen_layers=2, mask_time_prob=0.0, layers="weighted", pooling="attention")
    # The usual freezing: CNN frozen, bottom layers requires_grad=False, autograd still runs through them
    # (the feature projection and positional conv below them stay trainable).
    slow = _model(shape, num_frozen_layers=0, mask_time_prob=0.0, layers="weighted", pooling="attention")
    slow.load_state_dict(fast.state_dict())
    for layer in slow.backbone.encoder.layers[:2]:
        layer.requires_grad_(False)
    fast.eval(), slow.eval()  # dropout off, so both compute the same function
    fast_out = fast(input_values, attention_mask=attention_mask, labels=labels)
    slow_out = slow(input_values, attention_mask=attention_mask, labels=labels)
    torch.testing.assert_close(fast_out.logits, slow_out.logits)
    fast_out.loss.backward()
    slow_out.loss.backward()
    slow_grads = dict(slow.named_parameters())
    compared = 0
    for name, param in fast.named_parameters():
        if param.requires_grad:
            torch.testing.assert_close(param.grad, slow_grads[name].grad, rtol=1e-4, atol=1e-6)
            compared += 1
    assert compared > 10
    # the slow path did build a graph below the cut: its feature projection got gradients
    assert slow.backbone.feature_projection.projection.weight.grad is not None


@pytest.mark.parametrize(
    "options",
    [
        {"num_frozen_layers": 2},
        {"num_frozen_layers": 2, "layers": 3, "mask_time_prob": 0.0},
        {"num_frozen_layers": 1, "layers": "weighted", "mask_time_prob": 0.3},
        {"num_frozen_layers": 0, "freeze_feature_encoder": False, "pooling": "bilstm"},
        {"num_frozen_layers": 4},
    ],
)
def test_every_trainable_parameter_gets_a_gradient(options, padded_batch):
    """What DDP needs without find_unused_parameters: no trainable parameter is left out of the graph."""
    input_values, attention_mask, _ = padded_batch
    model = _model("tiny", **options).train()
    model(input_values, attention_mask=attention_mask, labels=torch.tensor([0, 1])).loss.backward()
    unused = [name for name, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert unused == []


def test_spec_augment_embedding_is_frozen_when_masking_is_off():
    model = _model("tiny", mask_time_prob=0.0)
    embed = getattr(model.backbone, "masked_spec_embed", None)
    assert embed is None or not embed.requires_grad


def test_frozen_part_stays_in_eval_mode():
    model = _model("tiny", num_frozen_layers=2).train()
    assert not model.backbone.encoder.layers[1].training
    assert model.backbone.encoder.layers[2].training
    assert model.pooling.training


def test_gradient_checkpointing_gives_the_same_gradients(padded_batch):
    input_values, attention_mask, _ = padded_batch
    labels = torch.tensor([0, 3])
    plain = _model("tiny", num_frozen_layers=1, mask_time_prob=0.0, dropout=0.0)
    checkpointed = _model("tiny", num_frozen_layers=1, mask_time_prob=0.0, dropout=0.0, gradient_checkpointing=True)
    checkpointed.load_state_dict(plain.state_dict())
    for model in (plain, checkpointed):  # train mode: checkpointing is a training feature
        torch.manual_seed(1)  # same dropout masks in both (checkpoint replays the RNG state on recompute)
        model(input_values, attention_mask=attention_mask, labels=labels).loss.backward()
    grads = dict(checkpointed.named_parameters())
    for name, param in plain.named_parameters():
        if param.requires_grad:
            torch.testing.assert_close(param.grad, grads[name].grad, rtol=1e-4, atol=1e-6)


def test_legacy_layerdrop_is_switched_off_unless_asked():
    assert _model("tiny").backbone.config.layerdrop == 0.0
    assert _model("tiny", layerdrop=0.2).backbone.config.layerdrop == 0.2
