import pytest
from hypothesis import given
from hypothesis import strategies as st

from arb_pipeline.mapping.normalize import normalize_name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Montréal Canadiens", "montreal canadiens"),
        ("  Brighton &  Hove Albion ", "brighton and hove albion"),
        ("Brighton and Hove Albion", "brighton and hove albion"),
        ("AFC Bournemouth", "bournemouth"),
        ("Arsenal F.C.", "arsenal f c"),  # dotted form is not the token "fc": kept, visibly
        ("Arsenal FC", "arsenal"),
        ("A's", "as"),
        ("Nott'm Forest", "nottm forest"),
        ("St.Louis Blues", "st louis blues"),
        ("FC", "fc"),  # never normalise a name to nothing
    ],
)
def test_normalize_name(raw: str, expected: str) -> None:
    assert normalize_name(raw) == expected


def test_distinguishing_words_are_kept() -> None:
    assert normalize_name("Manchester United FC") == "manchester united"
    assert normalize_name("Manchester City FC") == "manchester city"
    assert normalize_name("Manchester United") != normalize_name("Manchester City")


def test_rejects_non_strings() -> None:
    with pytest.raises(TypeError, match="expects a str"):
        normalize_name(None)  # type: ignore[arg-type]


@given(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=30)
       | st.text(alphabet=st.characters(max_codepoint=0x7F) | st.sampled_from("éèüñøåçß’´ﬁ²\u0301\u00a0Å"), max_size=30))
def test_an_ascii_text_skips_the_accent_step_with_the_same_result(text: str) -> None:
    """The ASCII shortcut in `_normalize` is exact: NFKD then dropping combining characters returns an
    ASCII text unchanged, so `_strip_accents` (the general step, always taken for other texts) agrees."""
    from arb_pipeline.mapping.normalize import _strip_accents

    if text.isascii():
        assert _strip_accents(text) == text
    assert normalize_name(text) == _reference(text)


def _reference(text: str) -> str:
    """`normalize_name` as it was before the ASCII shortcut (every text through NFKD and the filter)."""
    import re
    import unicodedata

    from arb_pipeline.mapping.normalize import GENERIC_CLUB_TOKENS

    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    lowered = re.sub(r"['’`´]", "", stripped.lower().replace("&", " and "))
    tokens = re.sub(r"[^\w\s]|_", " ", lowered).split()
    kept = [token for token in tokens if token not in GENERIC_CLUB_TOKENS]
    return " ".join(kept or tokens)
