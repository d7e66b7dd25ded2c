import pytest

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
