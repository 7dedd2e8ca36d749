"""A missing alignment file is retried on the next run instead of being cached as a failure."""

from hf_ser.augment.align import AlignmentCache, TextGridAligner

TEXTGRID = '''File type = "ooTextFile"
Object class = "TextGrid"

xmin = 0
xmax = 1.0
tiers? <exists>
size = 1
item []:
    item [1]:
        class = "IntervalTier"
        name = "words"
        xmin = 0
        xmax = 1.0
        intervals: size = 2
        intervals [1]:
            xmin = 0
            xmax = 0.4
            text = "kids"
        intervals [2]:
            xmin = 0.4
            xmax = 1.0
            text = "talk"
'''


def test_missing_textgrid_is_retried_once_it_exists(tmp_path):
    rows = [{"utt_id": "u1", "corpus": "c", "rel_path": "a/u1.wav", "speaker": "s", "text": "kids talk", "duration_s": 1.0}]
    aligner = TextGridAligner(tmp_path / "grids")
    first = AlignmentCache.compute(rows, aligner, cache_dir=tmp_path / "cache", progress=False)
    assert first.get("c/u1") is None and "no TextGrid" in first.exclusion_reason("c/u1")
    (tmp_path / "grids" / "a").mkdir(parents=True)
    (tmp_path / "grids" / "a" / "u1.TextGrid").write_text(TEXTGRID)
    second = AlignmentCache.compute(rows, aligner, cache_dir=tmp_path / "cache", progress=False)
    assert [w.word for w in second.get("c/u1")] == ["kids", "talk"]
