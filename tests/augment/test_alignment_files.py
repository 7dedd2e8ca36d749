import pytest

from hf_ser.augment.alignment_files import AlignmentFileError, parse_textgrid, read_textgrid, read_wdseg

WDSEG = """ SFrm  EFrm    SegAScr Word
    0    40     -9461 <s>
   41    72    -17530 WHAT(2)
   73    95     -8803 IS
   96    99     -2000 <sil>
  100   150    -21000 ++BREATH++
  151   190    -19000 THIS
  191   210     -3000 </s>
 Total score:      -81794
"""

LONG = """File type = "ooTextFile"
Object class = "TextGrid"

xmin = 0
xmax = 1.5
tiers? <exists>
size = 2
item []:
    item [1]:
        class = "IntervalTier"
        name = "words"
        xmin = 0
        xmax = 1.5
        intervals: size = 4
        intervals [1]:
            xmin = 0
            xmax = 0.25
            text = ""
        intervals [2]:
            xmin = 0.25
            xmax = 0.61
            text = "kids"
        intervals [3]:
            xmin = 0.61
            xmax = 0.9
            text = "say ""hi"" [1]"
        intervals [4]:
            xmin = 0.9
            xmax = 1.5
            text = "sil"
    item [2]:
        class = "IntervalTier"
        name = "phones"
        xmin = 0
        xmax = 1.5
        intervals: size = 1
        intervals [1]:
            xmin = 0
            xmax = 1.5
            text = "K"
"""

SHORT = """File type = "ooTextFile"
Object class = "TextGrid"

0
1.5
<exists>
2
"TextTier"
"events"
0
1.5
1
0.7
"click"
"IntervalTier"
"spk1 - words"
0
1.5
3
0
0.3
""
0.3
0.8
"dogs"
0.8
1.5
"are"
"""


def test_wdseg_frames_to_seconds_and_drops_silence(tmp_path):
    path = tmp_path / "Ses01F_impro01_F000.wdseg"
    path.write_text(WDSEG)
    spans = read_wdseg(path)
    assert [s.word for s in spans] == ["WHAT", "IS", "THIS"]
    assert spans[0].start_s == pytest.approx(0.41)
    assert spans[0].end_s == pytest.approx(0.73)  # (EFrm + 1) * 10 ms
    assert spans[2].start_s == pytest.approx(1.51) and spans[2].end_s == pytest.approx(1.91)
    assert all(s.score is None for s in spans)


def test_textgrid_long_format_words_tier(tmp_path):
    path = tmp_path / "a.TextGrid"
    path.write_text(LONG)
    spans = read_textgrid(path)
    assert [(s.word, s.start_s, s.end_s) for s in spans] == [
        ("kids", 0.25, 0.61),
        ('say "hi" [1]', 0.61, 0.9),
    ]


def test_textgrid_short_format_utf16_and_speaker_tier(tmp_path):
    path = tmp_path / "b.TextGrid"
    path.write_bytes(SHORT.encode("utf-16"))  # Praat's default encoding for non-ASCII files, with BOM
    spans = read_textgrid(path)
    assert [(s.word, s.start_s, s.end_s) for s in spans] == [("dogs", 0.3, 0.8), ("are", 0.8, 1.5)]


def test_textgrid_missing_tier_lists_tiers():
    with pytest.raises(AlignmentFileError, match="phones"):
        parse_textgrid(LONG, tier="syllables")
    with pytest.raises(AlignmentFileError):
        parse_textgrid("not a textgrid at all")
