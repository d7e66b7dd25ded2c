"""Read a large top-level JSON object member by member, its big arrays item by item.

Why: a recorded `kalshi_events.json` at 5,000 games is 30 MiB of text that `json.loads` turns into
~66 MiB of dicts and strings (and a transient copy of the text) before the parser keeps a tenth of
it; a scan held all of that at once. `stream_members` reads the file in chunks and decodes one array
item at a time with the standard library's own decoder (`json.JSONDecoder.raw_decode`), so the
caller can turn each item into its record and let the item's JSON go before the next is read. What
is held at once is one chunk of text plus one item.

Chosen over a streaming library (`ijson`) because the values are decoded by exactly the parser the
checked path uses (same numbers, same strings, same refusal of NaN), with no new dependency; the
cost is this small tokenizer of the top two levels.

It reads only the well-formed, common shape: a top-level object whose streamed members are arrays,
each key once. Anything else (invalid JSON anywhere, a byte-order mark, a repeated key, a streamed
member that is not an array, unreadable UTF-8) raises `NotStreamable`; callers then parse the file
with the checked whole-file path, which reports the problem with its file, line and column exactly
as before. The fast path never decides a file is bad on its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

CHUNK = 1 << 16  # characters read at a time: ~10 Kalshi events (~6 KB each); larger chunks measured no better
_WS = re.compile(r"[ \t\n\r]*")
_DELIMITERS = frozenset(" \t\n\r,:]}")  # what may follow a value (":" after a key)


class NotStreamable(ValueError):
    """The text is not the simple shape the streaming reader handles; parse it the checked way."""


def _reject_constant(name: str) -> None:
    raise NotStreamable(f"non-standard JSON constant {name}")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


class _Text:
    """A growing window over chunked text: `buf[pos:]` is what has not been consumed yet."""

    def __init__(self, chunks: Iterator[str], decoder: json.JSONDecoder = _DECODER) -> None:
        self.chunks, self.buf, self.pos, self.eof = chunks, "", 0, False
        self.decode = decoder.raw_decode

    def more(self) -> bool:
        """Append the next chunk (dropping what was consumed); False at the end of the text."""
        if self.eof:
            return False
        for chunk in self.chunks:
            if chunk:
                self.buf = self.buf[self.pos:] + chunk
                self.pos = 0
                return True
        self.eof = True
        return False

    def peek(self) -> str:
        """The next non-whitespace character, consuming the whitespace before it ("" at the end)."""
        while True:
            self.pos = _WS.match(self.buf, self.pos).end()
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise NotStreamable(f"expected {char!r} at character {self.pos}")
        self.pos += 1

    def closes(self, closing: str) -> bool:
        """After a container's item: consume its separator; True at `closing` (the container ended),
        False at ',' (another item follows); anything else is not JSON."""
        separator = self.peek()
        self.pos += 1
        if separator == closing:
            return True
        if separator != ",":
            raise NotStreamable(f"expected ',' or {closing!r} at character {self.pos - 1}")
        return False

    def value(self) -> Any:
        """Decode one JSON value at the current position. The window may cut a value short: then the
        decoder fails (retried with more text), or — a number — it reads a shorter one ("0." of "0.5",
        "12" of "125"). So a value only counts when a delimiter (whitespace, ",", ":", "]", "}") follows it
        inside the window, or the text has ended."""
        self.peek()
        while True:
            try:
                value, end = self.decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self.more():
                    continue
                raise NotStreamable(f"invalid JSON: {exc}") from None
            except RecursionError:
                raise NotStreamable("nested too deeply") from None
            if (end < len(self.buf) and self.buf[end] in _DELIMITERS) or not self.more():
                self.pos = end
                return value


def exact_decoder() -> json.JSONDecoder:
    """A decoder reading fractional numbers as `Decimal`s, shared by text within one document (as
    `sportsbooks.jsonio.loads_exact`), refusing NaN/Infinity. One per document."""
    from arb_pipeline.connectors.sportsbooks.jsonio import shared_decimals

    return json.JSONDecoder(parse_float=shared_decimals(), parse_constant=_reject_constant)


def _array_items(text: _Text) -> Iterator[Any]:
    """The items of the array at the current position (its '[' not yet consumed)."""
    text.expect("[")
    if text.peek() == "]":
        text.pos += 1
        return
    while True:
        yield text.value()
        if text.closes("]"):
            return


def stream_array(chunks: Iterable[str], decoder: json.JSONDecoder = _DECODER) -> Iterator[Any]:
    """The items of the top-level JSON array in `chunks`, one at a time (`NotStreamable` for anything
    else, e.g. an object at the top, or text after the array)."""
    text = _Text(iter(chunks), decoder)
    yield from _array_items(text)
    if text.peek() != "":
        raise NotStreamable("text after the top-level array")


def stream_members(chunks: Iterable[str], streamed: frozenset[str],
                   decoder: json.JSONDecoder = _DECODER) -> Iterator[tuple[str, int, Any]]:
    """The members of the top-level JSON object in `chunks` (pieces of its text, in order).

    Yields `(key, -1, value)` for a member not in `streamed`, and `(key, i, item)` for item i of a
    member in `streamed` (which must be an array; an empty one is yielded as `(key, -1, [])`). Raises
    `NotStreamable` for any other shape."""
    text = _Text(iter(chunks), decoder)
    text.expect("{")
    seen: set[str] = set()
    if text.peek() == "}":
        text.pos += 1
    else:
        while True:
            if text.peek() != '"':
                raise NotStreamable(f"expected a key at character {text.pos}")
            key = text.value()
            if key in seen:
                raise NotStreamable(f"key {key!r} repeated")  # json.loads keeps the last: let it decide
            seen.add(key)
            text.expect(":")
            if key in streamed:
                i = -1
                for i, item in enumerate(_array_items(text)):
                    yield key, i, item
                if i < 0:
                    yield key, -1, []  # present and empty
            else:
                yield key, -1, text.value()
            if text.closes("}"):
                break
    if text.peek() != "":
        raise NotStreamable("text after the top-level object")


def text_chunks(read: Callable[[int], str], size: int | None = None) -> Iterator[str]:
    """`read(size)` (default `CHUNK`) until it returns "" (e.g. a text file's `read`)."""
    size = size or CHUNK
    while chunk := read(size):
        yield chunk
