"""Service refusals in the retailer's words, for every staff page (store and back office).

The API answers with an exception's own ``message`` and field ``errors`` (``omnichannel.api.errors``);
those are written for a developer ("SKU-1@network wants 500, has 403", "send lat and lon").
A person at a counter or on the phone needs one sentence that says what happened and what
to do instead. ``staff_message`` is the one place that turns a refusal into that sentence:
the store pages, the returns desk and the back office all call it, and none of them shows
``str(exc)``. A refusal class that carries more than a message (a shortfall, the allowed
transitions) has its own sentence registered with ``describes``; every other refusal keeps
its message, with the fields named in plain words rather than as API paths. The words are
each app's: it registers them (``describes``, ``field_words``, ``field_sentence``) in its
``refusal_sentences`` module when it is ready, so this module knows no app's messages.
"""

from __future__ import annotations

from collections.abc import Callable

from .errors import DomainError

# Field paths of the API as a person would name them, registered by the app whose services use
# them (``field_words``); a path not listed is named by its last part.
FIELD_WORDS: dict[str, str] = {}

Rule = tuple[Callable[[str], bool], Callable[[str], bool], Callable[[str], str]]

# Field messages that have a better sentence for a person than the API's: (field, text) → sentence,
# registered by the app whose services write the message (``field_sentence``).
FIELD_SENTENCES: list[Rule] = []

# After every app's own: a required field is named by the sentence "Enter the …" below.
MISSING: Rule = (lambda field: True, lambda text: text == "Required.", lambda text: "")


def field_words(words: dict[str, str]) -> None:
    """Register how a person names these API field paths."""
    FIELD_WORDS.update(words)


def field_sentence(applies: Callable[[str], bool], matches: Callable[[str], bool]):
    """Register the decorated function as the sentence for a field's message that ``applies`` and ``matches``."""

    def register(say: Callable[[str], str]) -> Callable[[str], str]:
        FIELD_SENTENCES.append((applies, matches, say))
        return say

    return register


def _field_name(field: str) -> str:
    return FIELD_WORDS.get(field) or field.rsplit(".", 1)[-1].replace("_", " ")


def _input(error: DomainError) -> str:
    sentences, details, missing = [], [], []
    for field, texts in error.errors.items():
        for text in texts:
            rules = [*FIELD_SENTENCES, MISSING]
            rule = next((say for applies, matches, say in rules if applies(field) and matches(text)), None)
            if rule is None:
                if text.rstrip(".").lower() not in error.message.lower():
                    name = _field_name(field)
                    details.append(f"{name[:1].upper()}{name[1:]}: {text.split(': ', 1)[-1]}")
            elif said := rule(text):
                sentences.append(said)
            else:
                missing.append(_field_name(field))
    if missing:
        sentences.append(f"Enter the {' and the '.join(dict.fromkeys(missing))}.")
    if sentences:
        return " ".join(dict.fromkeys(sentences))
    return " ".join([error.message, *details])


# Refusal class → its sentence, registered by the module that knows what the class carries.
DESCRIBERS: dict[type[DomainError], Callable[[DomainError], str]] = {}


def describes(kind: type[DomainError]):
    """Register the decorated function as the sentence for refusals of ``kind`` (and its subclasses)."""

    def register(describe: Callable[[DomainError], str]) -> Callable[[DomainError], str]:
        DESCRIBERS[kind] = describe
        return describe

    return register


def staff_message(error: DomainError) -> str:
    """Say why a service refused an action, in one sentence a person at the counter can act on."""
    for kind in type(error).__mro__:
        if kind in DESCRIBERS:
            return DESCRIBERS[kind](error)
    return _input(error)  # any other refusal: its message, with the fields in plain words
