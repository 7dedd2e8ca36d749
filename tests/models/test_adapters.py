"""LoRA adapters through peft: what trains, that every adapter runs, merged and unmerged saves."""

from pathlib import Path

import pytest
import torch
from tiny_models import ID2LABEL, TINY_SHAPES, encoder_layers
from transformers import AutoModelForAudioClassification

from hf_ser.config import load_recipe
from hf_ser.models import SerForSequenceClassification, build_model, parameter_counts


def _model(shape: str = "tiny", adapter=None, **kwargs) -> SerForSequenceClassification:
    return build_model(backbone=f"shape:{shape}", id2label=ID2LABEL, seed=0, adapter=adapter, **kwargs)


def _perturb_lora_b(model, seed: int = 0) -> None:
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.5)


TARGETS = [(shape, target) for shape in TINY_SHAPES for target in ("ffn", "attention") if not (shape == "tiny-wavlm" and target == "attention")]


@pytest.mark.parametrize(("shape", "target"), TARGETS)
def test_only_adapters_and_head_train_and_every_adapter_runs(shape, target, padded_batch):
    input_values, attention_mask, _ = padded_batch
    plain = _model(shape, num_frozen_layers=1).eval()
    model = _model(shape, adapter={"r": 4, "alpha": 8, "target_modules": target}, num_frozen_layers=1).eval()
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(".lora_" in name for name in trainable if name.startswith("backbone."))
    assert {name for name in trainable if not name.startswith("backbone.")} == {"classifier.weight", "classifier.bias"}
    with torch.no_grad():
        # B starts at zero: the adapted model computes what the plain one does.
        torch.testing.assert_close(model(input_values, attention_mask=attention_mask).logits,
                                   plain(input_values, attention_mask=attention_mask).logits)
    wrapped = [name for name, module in model.named_modules() if hasattr(module, "lora_A")]
    assert {int(name.split("layers.")[1].split(".")[0]) for name in wrapped} == set(range(1, 4))  # above the cut
    # Every wrapped module must change the output when its B is non-zero (an adapter the forward never runs
    # would train nothing).
    for name in wrapped:
        candidate = _model(shape, adapter={"r": 4, "alpha": 8, "target_modules": target}, num_frozen_layers=1).eval()
        with torch.no_grad():
            weight = candidate.get_submodule(name).lora_B["default"].weight
            # Random, not constant: a constant B adds the same value to every feature, which layer norm removes.
            weight.copy_(torch.randn(weight.shape, generator=torch.Generator().manual_seed(0)))
            changed = candidate(input_values, attention_mask=attention_mask).logits
        assert not torch.allclose(changed, plain(input_values, attention_mask=attention_mask).logits), name


def test_wavlm_attention_targets_are_refused():
    with pytest.raises(ValueError, match="ffn"):
        _model("tiny-wavlm", adapter={"target_modules": "attention"})


def test_layer_selection_and_its_errors():
    model = _model("tiny", adapter={"layers": "upper_half"})
    layers = {int(n.split("layers.")[1].split(".")[0]) for n, m in model.named_modules() if hasattr(m, "lora_A")}
    assert layers == {2, 3} and model.config.adapter["layers"] == [2, 3]
    assert _model("tiny", adapter={"layers": [0, 3]}).config.adapter["layers"] == [0, 3]
    with pytest.raises(ValueError, match="num_frozen_layers"):
        _model("tiny", adapter={"layers": [0, 3]}, num_frozen_layers=2)
    with pytest.raises(ValueError, match="unknown key"):
        _model("tiny", adapter={"rank": 4})
    with pytest.raises(ValueError, match="only 'lora'"):
        _model("tiny", adapter={"type": "ia3"})


def test_backward_reaches_only_adapters_and_head(padded_batch):
    input_values, attention_mask, _ = padded_batch
    model = _model("tiny-whisper", adapter={"r": 2})
    model(input_values, attention_mask=attention_mask, labels=torch.tensor([0, 1])).loss.backward()
    with_grad = {name for name, p in model.named_parameters() if p.grad is not None}
    assert with_grad == {name for name, p in model.named_parameters() if p.requires_grad}
    counts = parameter_counts(model)
    assert 0 < counts["trainable"] < counts["total"] / 5
    assert counts["trainable_fraction"] == pytest.approx(counts["trainable"] / counts["total"], abs=1e-6)


@pytest.mark.parametrize("shape", ["tiny", "tiny-whisper"])
def test_saved_model_has_adapters_merged_and_unmerged_copy_keeps_them(shape, tmp_path, padded_batch):
    input_values, attention_mask, _ = padded_batch
    model = _model(shape, adapter={"r": 4, "target_modules": "attention"}, num_frozen_layers=1).eval()
    _perturb_lora_b(model)
    with torch.no_grad():
        expected = model(input_values, attention_mask=attention_mask).logits
    model.save_pretrained(tmp_path / "merged")
    model.save_pretrained(tmp_path / "unmerged", merge_adapter=False)
    assert model.config.adapter is not None  # saving does not change the live model

    merged = AutoModelForAudioClassification.from_pretrained(tmp_path / "merged").eval()
    assert merged.config.adapter is None and merged.config.merged_adapter["r"] == 4
    assert not any("lora" in name for name, _ in merged.named_parameters())
    unmerged = AutoModelForAudioClassification.from_pretrained(tmp_path / "unmerged").eval()
    assert any(p.requires_grad for name, p in unmerged.named_parameters() if "lora_B" in name)
    assert len(encoder_layers(unmerged)) == len(encoder_layers(model))
    with torch.no_grad():
        torch.testing.assert_close(merged(input_values, attention_mask=attention_mask).logits, expected, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(unmerged(input_values, attention_mask=attention_mask).logits, expected, rtol=0, atol=0)


def test_recipe_adapter_field_is_typed():
    demo = Path(__file__).parents[2] / "recipes" / "demo" / "ravdess_tiny.yaml"
    cfg = load_recipe(demo, ["model.adapter={type: lora, r: 8, alpha: 16, layers: upper_half}"])
    assert (cfg.model.adapter.r, cfg.model.adapter.alpha, cfg.model.adapter.layers) == (8, 16.0, "upper_half")
    with pytest.raises(ValueError, match="model.adapter.rank"):
        load_recipe(demo, ["model.adapter={rank: 8}"])


def test_adapter_given_through_ser_config_and_pretrained_weights_under_it(tmp_path):
    """Adapter settings may reach SerConfig directly (resolved there); pretrained weights load into the base
    layers of wrapped modules either way."""
    from transformers import AutoModel

    from hf_ser.model_options import AdapterConfig, SslOptions, saved_options
    from hf_ser.models import SerConfig, shape_config
    from hf_ser.models.adapter_layers import load_base_weights

    options = saved_options(SslOptions(adapter=AdapterConfig(layers="upper_half")))
    config = SerConfig(backbone_config=shape_config("tiny"), id2label=ID2LABEL, **options)
    model = SerForSequenceClassification(config)
    assert model.config.adapter["layers"] == [2, 3] and model.config.adapter["target_modules"][0].startswith("feed_forward")
    pretrained = AutoModel.from_config(shape_config("tiny"))
    load_base_weights(model.backbone, pretrained.state_dict())
    wrapped = model.backbone.encoder.layers[3].feed_forward.intermediate_dense
    torch.testing.assert_close(wrapped.base_layer.weight, pretrained.encoder.layers[3].feed_forward.intermediate_dense.weight)
    # build_model from a local checkpoint folder, adapters attached after the weights load
    pretrained.save_pretrained(tmp_path / "backbone")
    built = build_model(backbone=str(tmp_path / "backbone"), id2label=ID2LABEL, adapter={"layers": [3]})
    torch.testing.assert_close(
        built.backbone.encoder.layers[3].feed_forward.output_dense.base_layer.weight,
        pretrained.encoder.layers[3].feed_forward.output_dense.weight,
    )
