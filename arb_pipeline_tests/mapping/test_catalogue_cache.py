"""The league files' JSON cache: a shortcut that is taken only for exactly the bytes it was made from."""

import json
import shutil
from pathlib import Path

import pytest

from arb_pipeline.mapping import catalogue as catalogue_module
from arb_pipeline.mapping.catalogue import DATA_DIR, _load_dir, load_catalogue
from arb_pipeline.mapping.catalogue_cache import CACHE_NAME, cache_content, same_value, write_cache


def test_the_shipped_cache_matches_the_league_files() -> None:
    shipped = (DATA_DIR / CACHE_NAME).read_text(encoding="utf-8")
    assert shipped == cache_content(DATA_DIR), (
        "arb_pipeline/mapping/data/catalogue.json is out of date with the league files: run "
        "`uv run --frozen python -m arb_pipeline.mapping.catalogue_cache` and commit the result")


def _copy(tmp_path: Path, *, with_cache: bool = True) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(DATA_DIR, folder)
    if not with_cache:
        (folder / CACHE_NAME).unlink()
    return folder


def _no_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(text: str, source: str) -> object:
        raise AssertionError(f"{source} was parsed as YAML")

    monkeypatch.setattr(catalogue_module, "parse_league_yaml", refuse)


def test_the_cache_gives_the_catalogue_the_yaml_gives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from_yaml = _load_dir(_copy(tmp_path, with_cache=False))
    _no_yaml(monkeypatch)
    from_cache = _load_dir(DATA_DIR)  # not one file parsed
    assert from_cache == from_yaml
    assert repr(from_cache) == repr(from_yaml)
    assert load_catalogue() == from_yaml


def test_an_edited_file_is_read_from_its_yaml(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    nba = folder / "nba.yaml"
    nba.write_text(nba.read_text(encoding="utf-8").replace("full_name: Boston Celtics",
                                                         "full_name: Boston Celtics Edited"), encoding="utf-8")
    team = _load_dir(folder).team("NBA-BOS")
    assert team.full_name == "Boston Celtics Edited"


def test_a_removed_or_added_file_is_not_read_from_the_cache(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "wta.yaml").unlink()
    assert "WTA" not in _load_dir(folder).leagues
    shutil.copy(DATA_DIR / "wta.yaml", folder / "wta.yaml")
    shutil.move(folder / "ufc.yaml", folder / "zz_ufc.yaml")  # same bytes under another name
    leagues = _load_dir(folder).leagues
    assert "WTA" in leagues and leagues["UFC"].source == "zz_ufc.yaml"


@pytest.mark.parametrize("content", ["", "not json", "[]", '{"format": 0, "files": {}}',
                                     '{"format": 1, "files": []}'])
def test_an_unusable_cache_is_passed_over(tmp_path: Path, content: str) -> None:
    folder = _copy(tmp_path)
    (folder / CACHE_NAME).write_text(content, encoding="utf-8")
    assert _load_dir(folder) == load_catalogue()


def test_a_cache_with_a_wrong_document_for_the_right_bytes_is_what_the_hash_guards(tmp_path: Path) -> None:
    """The hashes are what binds a document to its file: a tampered document under the right hash would
    be read (the cache is the project's own file, like the code) - so the shipped one is checked above."""
    folder = _copy(tmp_path)
    cache = json.loads((folder / CACHE_NAME).read_text(encoding="utf-8"))
    cache["files"]["nba.yaml"]["sha256"] = "0" * 64
    (folder / CACHE_NAME).write_text(json.dumps(cache), encoding="utf-8")
    assert _load_dir(folder) == load_catalogue()


def test_a_bad_league_file_is_still_reported_with_its_name(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "nba.yaml").write_text("league: [unclosed", encoding="utf-8")
    with pytest.raises(catalogue_module.CatalogueError, match=r"nba\.yaml: invalid YAML"):
        _load_dir(folder)


def test_write_cache_round_trips_and_refuses_what_json_would_change(tmp_path: Path) -> None:
    folder = _copy(tmp_path, with_cache=False)
    write_cache(folder)
    assert (folder / CACHE_NAME).read_text(encoding="utf-8") == (DATA_DIR / CACHE_NAME).read_text(encoding="utf-8")

    nba = folder / "nba.yaml"
    nba.write_text(nba.read_text(encoding="utf-8").replace('season: "2026-27"', "season: 2026-10-20"),
                   encoding="utf-8")
    with pytest.raises(ValueError, match=r"nba\.yaml: holds a value JSON cannot keep"):
        write_cache(folder)


def test_same_value_tells_types_apart() -> None:
    assert same_value({"a": [1, "x", None, 1.5]}, {"a": [1, "x", None, 1.5]})
    assert not same_value(1, 1.0)
    assert not same_value(True, 1)
    assert not same_value({"a": [1]}, {"a": [True]})
    assert not same_value({"a": 1}, {"b": 1})
    assert not same_value([1, 2], [1])
