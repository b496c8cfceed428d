"""A task description as sentences: character spans, and the evidence (sentence and span) behind a fact.

Shared by the rule parser (:mod:`metaconf.advise.describe`) and the span finders (:mod:`metaconf.advise.spans`).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Evidence:
    """Where a fact came from: the sentence or table lines, and their character span in the original text."""

    text: str
    start: int
    end: int



_SENTENCE_BREAK = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[A-Z0-9\"'(`*_\[])|\n\s*\n|\n(?=\s*(?:[-*+#|>]|\d+[.)]\s))")


def sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of sentences (also split at blank lines, list items and table rows)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_BREAK.finditer(text):
        spans.append((start, match.start() + (len(match.group(0)) - len(match.group(0).lstrip(".!?\"')]")))))
        start = match.end()
    spans.append((start, len(text)))
    trimmed: list[tuple[int, int]] = []
    for begin, end in spans:
        while begin < end and text[begin].isspace():
            begin += 1
        while end > begin and text[end - 1].isspace():
            end -= 1
        if end > begin:
            trimmed.append((begin, end))
    return trimmed


class Text:
    """The description with its sentence spans, to turn a match position into :class:`Evidence`."""

    def __init__(self, text: str):
        self.text = text
        self.spans = sentences(text)
        self._starts = [begin for begin, _ in self.spans]

    def sentence_span(self, pos: int) -> tuple[int, int]:
        index = bisect.bisect_right(self._starts, pos) - 1
        if index >= 0:
            begin, end = self.spans[index]
            if pos < end:
                return begin, end
        return pos, pos

    def evidence(self, pos: int, end: int | None = None) -> Evidence:
        begin, stop = self.sentence_span(pos)
        if end is not None and end > stop:
            stop = self.sentence_span(max(end - 1, pos))[1]
        return Evidence(text=" ".join(self.text[begin:stop].split()), start=begin, end=stop)

    def sentences(self) -> Iterable[tuple[int, int, str]]:
        for begin, end in self.spans:
            yield begin, end, self.text[begin:end]
