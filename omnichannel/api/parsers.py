"""The API's JSON parser: bounded nesting, no unpaired surrogates, strict numbers.

Python's decoder recurses once per level, so a few kilobytes of brackets exhaust the
stack; and a JSON string may carry ``\\ud800``, a code point UTF-8 cannot encode, which
would fail later when the value is echoed, stored or logged. Both are refused here, once,
for every field of every endpoint.
"""

from __future__ import annotations

import json
import re

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils.json import strict_constant

MAX_DEPTH = 32
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_EMPTY_PAIR = re.compile(r"\[\]|\{\}")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects in ``text`` nest more than ``limit`` deep (strings aside).

    Each pass removes the innermost pairs, one level; every step runs in C, so a large
    flat stock feed costs a few passes over its brackets.
    """
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    for _ in range(limit):
        brackets, removed = _EMPTY_PAIR.subn("", brackets)
        if not brackets or not removed:  # done, or unbalanced: the decoder will say so
            return False
    return bool(_EMPTY_PAIR.search(brackets))


def _has_lone_surrogate(value) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser with a depth limit and unpaired surrogates refused, both as 400s."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding) if stream is not None else ""
        except UnicodeDecodeError as exc:
            raise ParseError(f"The body is not valid {encoding}.") from exc
        if too_deep(text):
            raise ParseError(f"JSON parse error - arrays and objects nest more than {MAX_DEPTH} deep.")
        try:
            data = json.loads(text, parse_constant=strict_constant if self.strict else None)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        # A surrogate can only come from a \u escape: decoded UTF-8 never holds one.
        if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(data):
            raise ParseError("JSON parse error - a string holds an unpaired surrogate (\\ud800-\\udfff).")
        return data
