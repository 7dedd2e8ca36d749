import json

import numpy as np
import pytest
import torch

from hf_ser.augment.align import (
    WAV2VEC2_FRAME_STRIDE,
    AlignmentCache,
    AlignmentError,
    CtcAligner,
    PauseAligner,
    TextGridAligner,
    WdsegAligner,
    word_spans_from_emission,
)
from hf_ser.augment.spans import WordSpan

SR = 16_000
SPF = WAV2VEC2_FRAME_STRIDE / SR  # 20 ms


def test_viterbi_on_constructed_emissions_gives_known_spans():
    # vocab: 0 blank, 1 "A", 2 "B", 3 "|"; transcript "AB BA"; one clear best path, frame by frame:
    path = [0, 1, 1, 2, 0, 3, 2, 1, 1, 0, 0]
    log_probs = torch.full((len(path), 4), np.log(0.01))
    for t, label in enumerate(path):
        log_probs[t, label] = np.log(0.97)
    spans = word_spans_from_emission(
        log_probs, [[1, 2], [2, 1]], ["AB", "BA"], blank_id=0, delimiter_id=3, seconds_per_frame=SPF
    )
    assert [s.word for s in spans] == ["AB", "BA"]
    assert spans[0].start_s == pytest.approx(1 * SPF) and spans[0].end_s == pytest.approx(4 * SPF)
    assert spans[1].start_s == pytest.approx(6 * SPF) and spans[1].end_s == pytest.approx(9 * SPF)
    assert spans[0].score == pytest.approx(0.97, abs=1e-4)


def test_viterbi_too_few_frames_fails():
    log_probs = torch.log_softmax(torch.zeros(3, 4), dim=-1)
    with pytest.raises(AlignmentError, match="too short"):
        word_spans_from_emission(
            log_probs, [[1, 2], [2, 1]], ["AB", "BA"], blank_id=0, delimiter_id=3, seconds_per_frame=SPF
        )


def _tiny_ctc(tmp_path):
    from transformers import (
        Wav2Vec2Config,
        Wav2Vec2CTCTokenizer,
        Wav2Vec2FeatureExtractor,
        Wav2Vec2ForCTC,
        Wav2Vec2Processor,
    )

    vocab = {
        "<pad>": 0,
        "<unk>": 1,
        "|": 2,
        **{c: 3 + i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ'")},
    }
    (tmp_path / "vocab.json").write_text(json.dumps(vocab))
    tokenizer = Wav2Vec2CTCTokenizer(
        str(tmp_path / "vocab.json"), unk_token="<unk>", pad_token="<pad>", word_delimiter_token="|"
    )
    torch.manual_seed(0)
    config = Wav2Vec2Config(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=20,
        conv_dim=(8,) * 7,
        conv_stride=(5, 2, 2, 2, 2, 2, 2),  # the real wav2vec2 stride: 320 samples per frame
        conv_kernel=(10, 3, 3, 3, 3, 2, 2),
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
        pad_token_id=0,
    )
    model = Wav2Vec2ForCTC(config)
    processor = Wav2Vec2Processor(feature_extractor=Wav2Vec2FeatureExtractor(), tokenizer=tokenizer)
    return model, tokenizer, processor


@pytest.mark.parametrize("use_processor", [False, True])
def test_ctc_aligner_end_to_end_with_tiny_random_model(tmp_path, use_processor):
    model, tokenizer, processor = _tiny_ctc(tmp_path)
    aligner = CtcAligner(model, processor if use_processor else tokenizer, model_id="tiny")
    assert aligner.seconds_per_frame == pytest.approx(0.02)
    wave = 0.1 * np.random.default_rng(0).standard_normal(2 * SR).astype(np.float32)
    spans = aligner.align(wave, "Kids are talking, by the door!")
    assert [s.word for s in spans] == ["Kids", "are", "talking,", "by", "the", "door!"]
    assert spans[0].start_s >= 0 and spans[-1].end_s <= 2.0
    for a, b in zip(spans, spans[1:]):
        assert a.start_s < a.end_s <= b.start_s  # ordered, non-overlapping (delimiter frame between words)
    assert all(0.0 < s.score <= 1.0 for s in spans)


def test_ctc_aligner_too_short_clip_fails(tmp_path):
    model, tokenizer, _ = _tiny_ctc(tmp_path)
    aligner = CtcAligner(model, tokenizer)
    with pytest.raises(AlignmentError):
        aligner.align(np.zeros(SR // 5, dtype=np.float32), "Kids are talking by the door")


def bursts(times, seconds=1.5, freq=300.0):
    """Tone bursts at ``times`` [(start_s, end_s)], silence elsewhere (plus a faint floor)."""
    t = np.arange(int(seconds * SR)) / SR
    wave = 1e-4 * np.random.default_rng(0).standard_normal(t.size)
    for a, b in times:
        m = (t >= a) & (t < b)
        wave[m] += 0.4 * np.sin(2 * np.pi * freq * t[m])
    return wave.astype(np.float32)


def test_pause_aligner_assigns_words_in_order_when_counts_match():
    times = [(0.1, 0.4), (0.6, 0.8), (1.0, 1.3)]
    spans = PauseAligner().align(bursts(times), "one two three")
    assert [s.word for s in spans] == ["one", "two", "three"]
    for span, (a, b) in zip(spans, times):
        assert span.start_s == pytest.approx(a, abs=0.03) and span.end_s == pytest.approx(b, abs=0.03)


def test_pause_aligner_fails_when_counts_differ():
    with pytest.raises(AlignmentError, match="pause count mismatch"):
        PauseAligner().align(bursts([(0.1, 0.4), (0.6, 0.9)]), "one two three")


class CountingPauseAligner(PauseAligner):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.calls = 0

    def align_row(self, row, load_wave):
        self.calls += 1
        return super().align_row(row, load_wave)


def test_cache_computes_once_per_corpus_counts_failures_and_reloads(tmp_path):
    waves = [
        bursts([(0.1, 0.4), (0.6, 0.8), (1.0, 1.3)]),
        bursts([(0.1, 0.4), (0.6, 0.9)]),
        bursts([(0.2, 0.5)]),
    ]
    rows = [
        {"utt_id": "u0", "corpus": "c1", "text": "one two three", "duration_s": 1.5},
        {"utt_id": "u1", "corpus": "c1", "text": "one two three", "duration_s": 1.5},
        {"utt_id": "u2", "corpus": "c2", "text": "", "duration_s": 1.5},
    ]
    aligner = CountingPauseAligner()
    cache = AlignmentCache.compute(
        rows, aligner, get_wave=lambda i: waves[i], cache_dir=tmp_path, progress=False
    )
    assert aligner.calls == 3
    assert cache.get("c1/u0") is not None and [s.word for s in cache.get("c1/u0")] == ["one", "two", "three"]
    assert cache.get("c1/u1") is None and cache.get("c2/u2") is None
    summary = cache.summary()
    assert summary == {
        "clips": 3,
        "usable": 1,
        "excluded": 2,
        "reasons": {"pause count mismatch": 1, "no transcript": 1},
    }
    assert AlignmentCache.cache_path(tmp_path, "c1", aligner).is_file()
    assert AlignmentCache.cache_path(tmp_path, "c2", aligner).is_file()

    again = CountingPauseAligner()
    cache2 = AlignmentCache.compute(
        rows, again, get_wave=lambda i: waves[i], cache_dir=tmp_path, progress=False
    )
    assert again.calls == 0  # everything came from the JSON files
    assert cache2.get("c1/u0") == cache.get("c1/u0") and cache2.summary() == summary

    other_settings = CountingPauseAligner(min_pause_s=0.05)
    AlignmentCache.compute(
        rows, other_settings, get_wave=lambda i: waves[i], cache_dir=tmp_path, progress=False
    )
    assert other_settings.calls == 3  # a different setting is a different cache file


def test_cache_threshold_excludes_low_scores_only_when_scored():
    cache = AlignmentCache(
        {
            "c/good": [WordSpan("a", 0.0, 0.1, 0.9), WordSpan("b", 0.1, 0.2, 0.7)],
            "c/bad": [WordSpan("a", 0.0, 0.1, 0.2), WordSpan("b", 0.1, 0.2, 0.1)],
            "c/unscored": [WordSpan("a", 0.0, 0.1)],
        },
        {"c/failed": "no transcript"},
        min_score=0.5,
    )
    assert cache.get("c/good") is not None and cache.get("c/unscored") is not None
    assert cache.get("c/bad") is None and cache.exclusion_reason("c/bad").startswith("low score")
    assert cache.summary()["reasons"] == {"low score": 1, "no transcript": 1}
    assert cache.exclusion_reason("c/never-seen") == "not aligned"


def test_file_aligners_find_files_from_rows(tmp_path):
    wav = tmp_path / "Session1" / "sentences" / "wav" / "Ses01F_impro01" / "Ses01F_impro01_F000.wav"
    wdseg = (
        tmp_path
        / "Session1"
        / "sentences"
        / "ForcedAlignment"
        / "Ses01F_impro01"
        / "Ses01F_impro01_F000.wdseg"
    )
    wdseg.parent.mkdir(parents=True)
    wdseg.write_text(" SFrm  EFrm    SegAScr Word\n    0    9   -1 <s>\n   10   29   -5 HELLO\n")
    row = {"utt_id": "Ses01F_impro01_F000", "corpus": "iemocap", "path": str(wav), "duration_s": 1.0}
    assert WdsegAligner().align_row(row, lambda: None) == [WordSpan("HELLO", 0.1, 0.3)]
    with pytest.raises(AlignmentError, match="no .wdseg"):
        WdsegAligner().align_row({**row, "path": str(tmp_path / "x" / "y" / "z" / "q.wav")}, lambda: None)

    grid = tmp_path / "mfa" / "01" / "utt1.TextGrid"
    grid.parent.mkdir(parents=True)
    grid.write_text(
        'File type = "ooTextFile"\nObject class = "TextGrid"\n0\n1\n<exists>\n1\n"IntervalTier"\n"words"\n0\n1\n1\n0.2\n0.6\n"hi"\n'
    )
    spans = TextGridAligner(tmp_path / "mfa").align_row(
        {"utt_id": "utt1", "speaker": "01", "rel_path": ""}, lambda: None
    )
    assert spans == [WordSpan("hi", 0.2, 0.6)]
