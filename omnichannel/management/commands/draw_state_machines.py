"""Draw every django-fsm state machine of the installed apps as Mermaid diagrams in docs/."""

from __future__ import annotations

from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_fsm import FSMFieldMixin

DEFAULT_OUTPUT = Path(settings.BASE_DIR) / "docs" / "state-machines.md"
ANY_STATE, ANY_OTHER_STATE = "*", "+"


def _targets(target) -> list:
    """The states a transition can end in: one, or those a RETURN_VALUE/GET_STATE target allows."""
    if target is None:
        return []
    return list(getattr(target, "allowed_states", None) or [target])


def _sources(source, states: list[str], targets: list) -> list[str]:
    if source == ANY_STATE:
        return states
    if source == ANY_OTHER_STATE:
        return [s for s in states if s not in targets]
    return [source]


def _machine(model, field) -> str:
    states = [value for value, _ in field.choices]
    edges = []
    for t in field.get_all_transitions(model):
        targets = _targets(t.target)
        label = t.name + "".join(f" [{c.__name__}]" for c in t.conditions)
        doc = (t.method.__doc__ or "").strip().split("\n")[0]
        edges += [(src, dst, label, doc) for src in _sources(t.source, states, targets) for dst in targets]
    edges.sort(key=lambda e: (states.index(e[0]), states.index(e[1]), e[2]))
    leaving = {src for src, dst, *_ in edges if src != dst}
    lines = [
        f"## {model._meta.verbose_name.title()} (`{model._meta.label}.{field.name}`)",
        "",
        "```mermaid",
        "stateDiagram-v2",
        f"    [*] --> {field.default}",
    ]
    lines += [f"    {src} --> {dst}: {label}" for src, dst, label, _ in edges]
    lines += [f"    {state} --> [*]" for state in states if state not in leaving]
    lines += ["```", "", "| Transition | From | To | Meaning |", "|---|---|---|---|"]
    rows: dict[tuple[str, str], tuple[list[str], str]] = {}
    for src, dst, label, doc in edges:
        rows.setdefault((label, dst), ([], doc))[0].append(src)
    lines += [f"| `{label}` | {', '.join(srcs)} | {dst} | {doc} |" for (label, dst), (srcs, doc) in rows.items()]
    return "\n".join(lines) + "\n"


def state_machines_markdown() -> str:
    """Render the document: one section per FSM field, in app and model order."""
    sections = [
        _machine(model, field)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, FSMFieldMixin) and field.model is model
    ]
    head = (
        "# State machines\n\n"
        "Generated from the django-fsm transitions in the code by `python manage.py draw_state_machines`;\n"
        "do not edit by hand. Edges are labelled with the transition (method) name, and a\n"
        "condition in brackets when the transition has one. `[*]` marks the initial state and\n"
        "the states nothing leaves.\n"
    )
    return "\n".join([head, *sections])


class Command(BaseCommand):
    help = "Write docs/state-machines.md: a Mermaid stateDiagram-v2 for every django-fsm field of the installed apps."

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
        parser.add_argument("--check", action="store_true", help="Fail if the file differs instead of writing it.")

    def handle(self, *args, output: Path, check: bool, **options):
        document = state_machines_markdown()
        if check:
            if not output.exists() or output.read_text() != document:
                raise CommandError(f"{output} is out of date: run python manage.py draw_state_machines.")
            self.stdout.write(f"{output} is up to date.")
            return
        output.write_text(document)
        self.stdout.write(self.style.SUCCESS(f"Wrote {output}."))
