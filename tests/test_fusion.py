"""Speech + text models: both fusions, modality dropout, freezing, the recipe checks, and one short training run
of recipes/demo/fusion.yaml whose metrics.json, fold table, card, saved folder and predictions say the modality."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch

from hf_ser import cli
from hf_ser.config import RecipeError, load_recipe

REPO = Path(__file__).parents[1]
FUSION_RECIPE = REPO / "recipes" / "demo" / "fusion.yaml"
SPEECH_RECIPE = REPO / "recipes" / "demo" / "ravdess_tiny.yaml"
LABELS = {0: "anger", 1: "sadness"}


def _model(**options):
    from hf_ser.models import build_model

    return build_model(backbone="shape:tiny", id2label=LABELS, text_encoder="shape:tiny-bert", seed=0, **options)


def _text_batch(texts):
    from hf_ser.data.batching import pad_tokens
    from hf_ser.models.shapes import text_shape_tokenizer
    from hf_ser.models.text_encoder import tokenize

    return pad_tokens(tokenize(text_shape_tokenizer("tiny-bert"), texts, max_tokens=64))


@pytest.mark.parametrize("fusion", ["late", "cross_attention"])
def test_both_fusions_use_the_transcript_when_there_is_one_and_say_so(fusion):
    model = _model(fusion=fusion).eval()
    waves = torch.randn(2, 8000, generator=torch.Generator().manual_seed(0))
    text = _text_batch(["Kids are talking by the door", ""])
    with torch.no_grad():
        fused = model(waves, **text)
        alone = model(waves)
        other = model(waves, **_text_batch(["Dogs are sitting by the door", ""]))
    assert fused.text_used.tolist() == [True, False] and alone.text_used.tolist() == [False, False]
    # The row without a transcript is the speech-only prediction; the transcript changes the other row.
    assert torch.allclose(fused.logits[1], alone.logits[1], atol=1e-6)
    assert not torch.allclose(fused.logits[0], other.logits[0])


def test_modality_dropout_trains_the_missing_text_embedding_and_evaluation_never_drops():
    model = _model(modality_dropout=0.9)
    waves = torch.randn(16, 8000, generator=torch.Generator().manual_seed(1))
    text = _text_batch(["Kids are talking by the door"] * 16)
    torch.manual_seed(0)
    out = model(waves, labels=torch.zeros(16, dtype=torch.long), **text)
    assert 0 < int(out.text_used.sum()) < 16  # some rows dropped, some kept (p = 0.9 over 16 rows, seeded)
    out.loss.backward()
    assert model.text_missing.grad is not None and model.text_missing.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        assert model(waves, **text).text_used.all()


def test_the_text_encoder_is_frozen_by_default_and_text_num_frozen_layers_unfreezes_the_top():
    frozen = _model()
    assert not any(p.requires_grad for p in frozen.text_encoder.parameters())
    partial = _model(text_num_frozen_layers=1)
    layers = partial.text_encoder.encoder.layer
    assert not any(p.requires_grad for p in layers[0].parameters())
    assert not any(p.requires_grad for p in partial.text_encoder.embeddings.parameters())
    assert all(p.requires_grad for p in layers[1].parameters())
    partial.train()
    assert not layers[0].training and layers[1].training  # frozen parts stay in eval mode (no dropout noise)


def test_the_collator_pads_tokens_and_marks_clips_without_a_transcript():
    batch = _text_batch(["ab", "", "abcd"])
    assert batch["text_input_ids"].shape == (3, 5)  # 4 bytes + end-of-sequence
    assert batch["text_attention_mask"].sum(dim=1).tolist() == [3, 0, 5]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["model.text_encoder=shape:no-such-text"], "model.text_encoder: unknown text shape"),
        (["model.text_num_frozen_layers=7"], "model.text_num_frozen_layers=7"),
        (["model.modality_dropout=1.0"], "model.modality_dropout"),
        (["model.kind=issa_mlp"], "model.text_encoder='shape:tiny-bert': an option of model.kind wav2vec2 only"),
    ],
)
def test_recipe_mistakes_are_refused_before_the_work(overrides, message):
    with pytest.raises(RecipeError, match=message.replace(".", r"\.").replace("+", r"\+")):
        load_recipe(FUSION_RECIPE, overrides)


def test_asr_transcribes_the_clips_without_text_once_and_caches_them(tmp_path):
    from audio_fixtures import write_wav

    from hf_ser.config import CorpusSpec
    from hf_ser.data.prepare import prepare_corpora
    from hf_ser.data.transcripts import fill_transcripts, transcripts_cache_path

    lines = ["path,label,speaker,text"]
    for i, (label, text) in enumerate([("anger", "I said no"), ("sadness", ""), ("anger", "")]):
        write_wav(tmp_path / "clips" / f"{i}.wav", seconds=0.6, freq_hz=200 + 50 * i, seed=i)
        lines.append(f"clips/{i}.wav,{label},s{i},{text}")
    (tmp_path / "manifest.csv").write_text("\n".join(lines) + "\n")
    cache = tmp_path / "cache"

    def prepared():
        return prepare_corpora([CorpusSpec(name="manifest", root=str(tmp_path))], cache_dir=cache, progress=False)

    data = prepared()
    first = fill_transcripts(data, "shape:tiny-whisper", cache, progress=False)
    assert first["corpora"]["manifest"] == {"own": 1, "cached": 0, "transcribed": 2}
    texts = data.column("text")
    assert texts[0] == "I said no" and all(t.strip() for t in texts)
    assert data.dataset["text"] == texts  # the dataset's column too
    assert transcripts_cache_path(cache, "manifest", "shape:tiny-whisper").is_file()
    again = prepared()
    assert fill_transcripts(again, "shape:tiny-whisper", cache, progress=False)["corpora"]["manifest"]["cached"] == 2
    assert again.column("text") == texts


def test_asr_transcripts_need_a_speech_plus_text_model_and_a_whisper_recogniser():
    with pytest.raises(RecipeError, match="set model.text_encoder"):
        load_recipe(SPEECH_RECIPE, ["data.transcripts={asr: shape:tiny-whisper}"])
    with pytest.raises(RecipeError, match="not a Whisper shape"):
        load_recipe(FUSION_RECIPE, ["data.transcripts={asr: shape:tiny}"])


# ---------------------------------------------------------------------------------------------- one real run
@pytest.fixture(scope="module")
def fusion_run(tmp_path_factory):
    from hf_ser.train import run

    tmp = tmp_path_factory.mktemp("fusion")
    with pytest.MonkeyPatch.context() as monkeypatch:  # module-scoped: the cache stays set for the module's tests
        monkeypatch.setenv("HF_SER_CACHE", str(tmp / "cache"))
        cfg = load_recipe(FUSION_RECIPE, [f"train.output_dir={tmp / 'run'}", "train.max_steps=2", "train.batch_size=4"])
        result = run(cfg)
        yield Path(result["run_dir"]), result


def _demo_files(n: int) -> list[str]:
    return [str(p) for p in sorted((REPO / "hf_ser" / "demo_data" / "ravdess").rglob("*.wav"))[:n]]


def test_the_run_reports_speech_plus_text_everywhere(fusion_run):
    from hf_ser.hub.card import render_model_card
    from hf_ser.reporting import fold_table

    run, result = fusion_run
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["protocol"]["modality"] == "speech+text"
    assert "modality speech+text" in fold_table(metrics, run)
    card = str(render_model_card(run, "someone/fusion"))
    assert "Modality: **speech+text**" in card and "speech-and-text" in card
    results = result["folds"][0]["results"]
    # The test clips are also scored without their transcripts: the speech-only figure of the same model.
    assert results["test_speech_only/ravdess"]["n"] == results["test/ravdess"]["n"] > 0


def test_the_saved_folder_carries_both_encoders_and_the_tokenizer(fusion_run):
    from transformers import AutoModelForAudioClassification, AutoTokenizer

    from hf_ser.evaluation.inference import check_model_code

    model_dir = fusion_run[0] / "model"
    check_model_code(model_dir)  # the code beside the weights is the installed hf_ser's
    model = AutoModelForAudioClassification.from_pretrained(model_dir)
    assert model.text_encoder is not None and model.config.text_config.model_type == "bert"
    assert model.config.modality == "speech+text"
    assert AutoTokenizer.from_pretrained(model_dir)("ab")["input_ids"] == [100, 101, 1]


def test_predict_with_and_without_a_transcript(fusion_run):
    import hf_ser

    model = hf_ser.load(fusion_run[0] / "model")
    path = _demo_files(1)[0]
    with_text = model.predict(path, text="Kids are talking by the door")
    alone = model.predict(path)
    assert with_text.modality == "speech+text" and alone.modality == "speech"
    assert with_text.to_dict()["modality"] == "speech+text"
    assert with_text.label in model.labels and alone.label in model.labels
    assert with_text.probabilities != alone.probabilities
    both = model.predict(_demo_files(2), text=["Dogs are sitting by the door", None])
    assert [p.modality for p in both] == ["speech+text", "speech"]
    with pytest.raises(hf_ser.errors.UserError, match="2 inputs"):
        model.predict(_demo_files(2), text=["only one"])


def test_hf_ser_predict_reads_transcripts_from_a_csv(fusion_run, tmp_path, capsys):
    files = _demo_files(2)
    transcripts = tmp_path / "transcripts.csv"
    transcripts.write_text(f"path,text\n{files[0]},Kids are talking by the door\n")
    out = tmp_path / "rows.csv"
    args = ["predict", str(fusion_run[0] / "model"), *files, "--transcripts", str(transcripts), "--output", str(out)]
    assert cli.main([*args, "--no-progress"]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [r["modality"] for r in rows] == ["speech+text", "speech"]
    bad = tmp_path / "bad.csv"
    bad.write_text("file,transcript\nx,y\n")
    assert cli.main(["predict", str(fusion_run[0] / "model"), files[0], "--transcripts", str(bad)]) == 2
    assert "needs columns path,text" in capsys.readouterr().err


def test_onnx_export_refuses_a_speech_plus_text_model(fusion_run, tmp_path):
    from hf_ser.onnx_export import ExportError, export_onnx

    with pytest.raises(ExportError, match="speech\\+text model"):
        export_onnx(fusion_run[0] / "model", tmp_path / "model.onnx")


def test_no_stock_transformers_form_for_a_speech_plus_text_model(fusion_run):
    from transformers import AutoConfig

    from hf_ser.stock_export import stock_form_refusal

    assert "speech+text" in stock_form_refusal(AutoConfig.from_pretrained(fusion_run[0] / "model"))


def test_the_server_takes_a_transcript_per_upload(fusion_run):
    import httpx

    import hf_ser
    from hf_ser.serve import create_app, running_server

    model = hf_ser.load(fusion_run[0] / "model", device="cpu")
    path = Path(_demo_files(1)[0])
    with running_server(create_app(model, source=fusion_run[0] / "model")) as url:
        assert httpx.get(f"{url}/v1/model").json()["modality"] == "speech+text"

        def post(query: str) -> httpx.Response:
            with path.open("rb") as f:
                return httpx.post(f"{url}/v1/predict{query}", files={"file": (path.name, f)}, timeout=60)

        with_text, alone = post("?text=Kids%20are%20talking%20by%20the%20door").json(), post("").json()
        assert (with_text["modality"], alone["modality"]) == ("speech+text", "speech")
        assert with_text["probabilities"] == pytest.approx(
            model.predict(str(path), text="Kids are talking by the door").to_dict()["probabilities"], abs=1e-5
        )
        assert post("?text=hi&segment=vad").status_code == 422


def test_a_speech_only_model_refuses_transcripts(tmp_path):
    from hub.tiny_run import write_tiny_model

    import hf_ser

    model_dir = write_tiny_model(tmp_path / "model")
    model = hf_ser.load(model_dir)
    assert model.settings.modality == "speech"
    with pytest.raises(hf_ser.errors.UserError, match="speech only"):
        model.predict(_demo_files(1)[0], text="hello")


def test_hf_ser_evaluate_reads_each_clips_transcript_or_speech_alone(fusion_run, tmp_path):
    """`hf-ser evaluate` on a speech + text model reads the corpus's transcripts (the ``text`` column) and says so;
    ``--no-transcripts`` scores the same clips from speech alone, which changes the logits."""
    from hf_ser.cli import main as cli_main

    model_dir, root = fusion_run[0] / "model", REPO / "hf_ser" / "demo_data" / "ravdess"
    reports = {}
    for flag, out in (([], tmp_path / "with"), (["--no-transcripts"], tmp_path / "without")):
        assert cli_main(["evaluate", str(model_dir), "--corpus", "ravdess", str(root), "--output", str(out), "--n-boot", "0",
                         "--no-progress", "--allow-validation-target", *flag]) == 0
        reports[out.name] = json.loads((out / "report.json").read_text())["results"]["ravdess"]
    assert reports["with"]["modality"] == "speech+text" and reports["without"]["modality"] == "speech"
    assert reports["with"]["n_scored"] == reports["without"]["n_scored"] > 0
    assert reports["with"]["unmasked"]["nll"] != reports["without"]["unmasked"]["nll"]
    assert "modality: speech+text" in (tmp_path / "with" / "report.md").read_text()
    # Calibration figures use the temperature the run fitted and stored with the model.
    stored = json.loads((model_dir / "config.json").read_text())["calibration"]["temperature"]
    assert reports["with"]["unmasked"]["temperature"] == stored


def test_a_fused_recipe_trains_with_the_frozen_output_cache(tmp_path, monkeypatch):
    """Speech frames below the cut and the frozen text encoder's output are both cached: epoch 1 fills the cache
    with every training clip, epoch 2 is served from it."""
    from hf_ser.train import run

    monkeypatch.setenv("HF_SER_CACHE", str(tmp_path / "cache"))
    cfg = load_recipe(FUSION_RECIPE, [
        f"train.output_dir={tmp_path / 'run'}", "train.epochs=2", "train.frozen_cache_mb=64", "data.max_duration_s=5.0",
        "model.num_frozen_layers=2", "model.freeze_feature_encoder=true", "model.text_num_frozen_layers=null",
    ])  # validation accepts the cache with a text encoder
    result = run(cfg)
    cache = json.loads((Path(result["run_dir"]) / "metrics.json").read_text())["frozen_cache"]
    # Every clip is shorter than the crop and has a transcript: all cached in epoch 1, all served in epoch 2.
    assert cache["clips"] > 0 and cache["hits"] == cache["misses"] == cache["clips"]
    assert cache["text_clips"] == cache["clips"] and cache["text_hits"] == cache["text_misses"] == cache["clips"]


def test_a_run_with_both_adapters_resumes_its_unmerged_loras_and_saves_them_merged(tmp_path, monkeypatch):
    """Checkpoints hold the unmerged LoRA matrices of both encoders: a run resumed from step 2 replays steps 3-4 to
    the same adapters as the run that never stopped; model/ has both merged, model_unmerged/ keeps them apart."""
    import shutil

    from safetensors.torch import load_file

    from hf_ser.train import main

    monkeypatch.setenv("HF_SER_CACHE", str(tmp_path / "cache"))
    steps = ["train.max_steps=4", "train.checkpoint_every_n_steps=2", "train.eval_every_n_steps=2", "train.batch_size=4",
             "model.text_num_frozen_layers=null", "model.adapter={r: 2}", "model.text_adapter={r: 2, target_modules: attention}"]
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    assert main([str(FUSION_RECIPE), f"train.output_dir={whole}", *steps]) == 0
    shutil.copytree(whole, resumed)
    shutil.rmtree(resumed / "checkpoints" / "step_00000004")
    assert main([str(FUSION_RECIPE), f"train.output_dir={resumed}", *steps, "--resume"]) == 0

    def loras(run):
        weights = load_file(run / "checkpoints" / "step_00000004" / "model.safetensors")
        return {k: v for k, v in weights.items() if "lora_B" in k}

    a, b = loras(whole), loras(resumed)
    assert any(k.startswith("text_encoder.") for k in a) and any(k.startswith("backbone.") for k in a)
    assert all(float(v.abs().sum()) > 0 for v in a.values())  # B starts at zero: every adapter trained
    for key in a:
        torch.testing.assert_close(b[key], a[key], atol=1e-6, rtol=1e-5)
    merged = json.loads((resumed / "model" / "config.json").read_text())
    assert merged["text_adapter"] is None and merged["merged_text_adapter"]["r"] == 2 and merged["merged_adapter"]["r"] == 2
    assert json.loads((resumed / "model_unmerged" / "config.json").read_text())["text_adapter"]["r"] == 2
