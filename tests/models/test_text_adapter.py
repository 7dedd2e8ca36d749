"""LoRA on the text encoder of a speech + text model (``model.text_adapter``): what it wraps, what trains, merged
and unmerged saves, both adapters at once, and the recipe checks."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForAudioClassification

from hf_ser.config import RecipeError, load_recipe
from hf_ser.models import build_model

REPO = Path(__file__).parents[2]
LABELS = {0: "anger", 1: "sadness"}


def _model(**options):
    return build_model(backbone="shape:tiny", id2label=LABELS, text_encoder="shape:tiny-bert", seed=0, **options)


def _inputs():
    from hf_ser.data.batching import pad_tokens
    from hf_ser.models.shapes import text_shape_tokenizer
    from hf_ser.models.text_encoder import tokenize

    waves = torch.randn(2, 8000, generator=torch.Generator().manual_seed(0))
    texts = ["Kids are talking by the door", "Dogs are sitting by the door"]
    return {"input_values": waves, **pad_tokens(tokenize(text_shape_tokenizer("tiny-bert"), texts, max_tokens=64))}


def _wrapped(model) -> set[str]:
    return {name for name, module in model.text_encoder.named_modules() if hasattr(module, "lora_A") and hasattr(module, "base_layer")}


def test_shorthands_wrap_the_bert_layers_own_modules():
    ffn = _wrapped(_model(text_adapter={"r": 2, "target_modules": "ffn"}))
    # "output.dense" is the layer's FFN output only, never attention.output.dense
    assert ffn == {f"encoder.layer.{i}.{m}" for i in (0, 1) for m in ("intermediate.dense", "output.dense")}
    attention = _wrapped(_model(text_adapter={"r": 2, "target_modules": "attention", "layers": [1]}))
    assert attention == {f"encoder.layer.1.attention.{m}" for m in ("self.query", "self.key", "self.value", "output.dense")}
    # A name that is no module's full in-layer name matches every module ending with it.
    assert _wrapped(_model(text_adapter={"target_modules": ["dense"], "layers": [0]})) == {
        "encoder.layer.0.attention.output.dense", "encoder.layer.0.intermediate.dense", "encoder.layer.0.output.dense"
    }
    # Above text_num_frozen_layers only.
    assert {n.split(".")[2] for n in _wrapped(_model(text_num_frozen_layers=1, text_adapter={"r": 2}))} == {"1"}


def test_only_the_text_loras_train_get_gradients_and_change_after_a_step():
    model = _model(text_adapter={"r": 2, "target_modules": "attention"})
    text_trainable = {n for n, p in model.text_encoder.named_parameters() if p.requires_grad}
    assert text_trainable and all(".lora_" in n for n in text_trainable)
    lora_b = {n: p.detach().clone() for n, p in model.text_encoder.named_parameters() if "lora_B" in n}
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)
    model(**_inputs(), labels=torch.tensor([0, 1])).loss.backward()  # in train mode: the no_grad path must not apply
    with_grad = {n for n, p in model.text_encoder.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}
    # B starts at zero, so only B gets a gradient on the first step; no base weight gets one.
    assert with_grad == set(lora_b)
    optimizer.step()
    assert all(not torch.equal(p, lora_b[n]) for n, p in model.text_encoder.named_parameters() if n in lora_b)
    assert model.text_output_cacheable() == "the text encoder's LoRA adapters train"


def _perturb_lora_b(model) -> None:
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.5)


def test_both_adapters_merge_on_save_and_load_without_peft(tmp_path, monkeypatch):
    model = _model(adapter={"r": 2, "layers": "upper_half"}, text_adapter={"r": 2, "target_modules": "attention"}).eval()
    _perturb_lora_b(model)
    inputs = _inputs()
    with torch.no_grad():
        expected = model(**inputs).logits
        text_only_changed = model.text_encoder.encoder.layer[0].attention.self.query.lora_B["default"].weight.abs().sum()
    assert text_only_changed > 0
    model.save_pretrained(tmp_path / "merged")
    model.save_pretrained(tmp_path / "unmerged", merge_adapter=False)
    assert model.config.adapter and model.config.text_adapter  # saving does not change the live model
    assert not hasattr(model.config, "merged_text_adapter")

    unmerged = AutoModelForAudioClassification.from_pretrained(tmp_path / "unmerged").eval()  # for --resume / more training
    assert _wrapped(unmerged) == _wrapped(model)
    with torch.no_grad():
        torch.testing.assert_close(unmerged(**inputs).logits, expected, rtol=0, atol=0)

    monkeypatch.setitem(sys.modules, "peft", None)  # `import peft` now fails: the merged folder must not need it
    merged = AutoModelForAudioClassification.from_pretrained(tmp_path / "merged").eval()
    assert merged.config.adapter is None and merged.config.text_adapter is None
    assert merged.config.merged_text_adapter["target_modules"][0] == "attention.self.query"
    assert merged.config.merged_adapter["layers"] == [2, 3]
    assert not any("lora" in name for name, _ in merged.named_parameters())
    with torch.no_grad():
        assert float((merged(**inputs).logits - expected).abs().max()) < 1e-5


FUSION = REPO / "recipes" / "demo" / "fusion.yaml"
SPEECH = REPO / "recipes" / "demo" / "ravdess_tiny.yaml"


@pytest.mark.parametrize(
    ("recipe", "overrides", "message"),
    [
        (SPEECH, ["model.text_adapter={r: 4}"], r"model.text_adapter: LoRA on the text encoder needs a speech \+ text model"),
        (FUSION, ["model.text_adapter={layers: [2]}"], r"model.text_adapter.layers \[2\]: must be non-empty and within 0..1"),
        (FUSION, ["model.text_num_frozen_layers=1", "model.text_adapter={layers: [0]}"], "text_num_frozen_layers=1"),
        (FUSION, ["model.text_adapter={target_modules: mlp}"], r"model.text_adapter.target_modules='mlp'"),
    ],
)
def test_text_adapter_mistakes_are_refused_before_the_work(recipe, overrides, message):
    with pytest.raises(RecipeError, match=message):
        load_recipe(recipe, overrides)


def test_a_valid_text_adapter_recipe_loads():
    cfg = load_recipe(FUSION, ["model.text_adapter={r: 4, target_modules: attention, layers: upper_half}"])
    assert (cfg.model.text_adapter.r, cfg.model.text_adapter.layers) == (4, "upper_half")
