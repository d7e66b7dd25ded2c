"""The league files' parsed documents, kept beside them as JSON so a process need not parse YAML.

Why: every scan process loads the whole catalogue (`catalogue.load_catalogue`), and parsing its ~130 KB
of YAML is ~28 ms of CPU even with libyaml - a few per cent of a 5,000-game `scan --snapshot`
(issue #11) - where reading the same documents from JSON takes under 1 ms.

The YAML files stay the only source: `catalogue.json` holds, per file name, the SHA-256 of that file's
bytes and the document parsed from them. A document is taken from it only when the directory holds
exactly the files it names, each with exactly the bytes it hashed; anything else - a file edited,
added or removed, the cache missing, unreadable or of another format - and the YAML is parsed as
before, so the catalogue loaded is always the one the YAML says. The cache is only ever a shortcut,
and validation (`catalogue.league_from_dict`) runs on its documents exactly as on parsed YAML.

After editing a league file, rewrite the cache (a test fails until then, naming this command):

    uv run --frozen python -m arb_pipeline.mapping.catalogue_cache
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

CACHE_NAME = "catalogue.json"
FORMAT = 1  # bumped whenever the layout below changes: an old cache is then ignored, never misread


def cached_documents(directory: Path, sources: Sequence[tuple[str, bytes]]) -> list[object] | None:
    """The parsed document of each `(file name, file bytes)` in `sources`, in that order, from the
    directory's cache - or None when the cache does not describe exactly these files and bytes."""
    try:
        cache = json.loads((directory / CACHE_NAME).read_bytes())
    except (OSError, ValueError):  # no cache (a user's own data directory), or not JSON
        return None
    if not isinstance(cache, dict) or cache.get("format") != FORMAT:
        return None
    files = cache.get("files")
    if not isinstance(files, dict) or len(files) != len(sources):
        return None
    documents = []
    for name, data in sources:
        entry = files.get(name)
        if not isinstance(entry, dict) or entry.get("sha256") != hashlib.sha256(data).hexdigest():
            return None
        documents.append(entry.get("document"))
    return documents


def cache_content(directory: Path) -> str:
    """What `catalogue.json` must hold for the league files now in `directory` (parsed by the loader
    `catalogue` uses, so the documents are the ones a YAML load gives)."""
    from arb_pipeline.mapping.catalogue import league_files, parse_league_yaml

    files = {}
    for path in league_files(directory):
        data = path.read_bytes()
        document = parse_league_yaml(data.decode("utf-8"), path.name)
        if not same_value(json.loads(json.dumps(document, default=repr)), document):
            raise ValueError(f"{path.name}: holds a value JSON cannot keep as it is (a date, a number "
                             "as a key, ...); quote it in the YAML so the cache reads back the same")
        files[path.name] = {"sha256": hashlib.sha256(data).hexdigest(), "document": document}
    return json.dumps({"format": FORMAT, "generated_by": "python -m arb_pipeline.mapping.catalogue_cache",
                       "files": files}, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def same_value(a: object, b: object) -> bool:
    """`a == b` with the same type at every level (`1 == 1.0 == True` are three different documents)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)  # type: ignore[index]
    if isinstance(a, list):
        return len(a) == len(b) and all(map(same_value, a, b))  # type: ignore[arg-type]
    return a == b


def write_cache(directory: Path) -> Path:
    """Rewrite `directory`'s cache from its league files; returns its path."""
    target = directory / CACHE_NAME
    target.write_text(cache_content(directory), encoding="utf-8")
    return target


if __name__ == "__main__":  # pragma: no cover - the maintainer's command, run by hand after an edit
    from arb_pipeline.mapping.catalogue import DATA_DIR

    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DATA_DIR
    print(f"wrote {write_cache(folder)}")
