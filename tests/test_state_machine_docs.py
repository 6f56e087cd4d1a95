"""docs/state-machines.md is generated from the code and must not drift from it."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from omnichannel.management.commands.draw_state_machines import DEFAULT_OUTPUT, state_machines_markdown


def test_committed_diagrams_match_the_transitions_in_the_code():
    # On failure: run `python manage.py draw_state_machines` and commit docs/state-machines.md.
    assert DEFAULT_OUTPUT.read_text() == state_machines_markdown()


def test_every_state_machine_is_drawn_with_transition_names_on_the_edges():
    document = state_machines_markdown()
    assert "## Order (`oms.Order.status`)" in document
    assert "## Fulfilment (`fulfilment.Fulfilment.status`)" in document
    assert "## Return (`returns.Return.status`)" in document
    assert document.count("stateDiagram-v2") == 3
    assert "    placed --> allocated: allocate\n" in document
    assert "    ready_for_pickup --> collected: collect\n" in document
    assert "    packed --> shipped: ship [is_shipment]\n" in document


def test_check_refuses_a_stale_file(tmp_path):
    stale = tmp_path / "state-machines.md"
    stale.write_text("# State machines\n")
    with pytest.raises(CommandError, match="out of date"):
        call_command("draw_state_machines", "--check", output=stale)
    call_command("draw_state_machines", output=stale)
    call_command("draw_state_machines", "--check", output=stale)
