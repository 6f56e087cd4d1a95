"""Deliveries due at a store: the list of suppliers' open documents and receiving them by scanning,
through Django's test client. Every refused receipt changes nothing and says why."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from fulfilment.deliveries import delivery_receive, receipt_token
from inventory.inbound import inbound_close, inbound_create
from inventory.models import Barcode, InboundLine, InboundSupply, StockLevel, StockMovement
from oms.models import StaffProfile
from oms.services import staff_create
from tests.factories import gtin13
from tests.fulfilment.test_order_concurrency import place_concurrently

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def url(name, *args, store="ST-SOHO"):
    return reverse(f"store:{name}", args=[store, *args])


def snapshot() -> tuple:
    """Everything a receipt could change."""
    return (
        list(InboundSupply.objects.values_list("pk", "status", "updated_at").order_by("pk")),
        list(InboundLine.objects.values_list("pk", "quantity", "received").order_by("pk")),
        list(StockLevel.objects.values_list("sku_id", "location_id", "on_hand").order_by("pk")),
        StockMovement.objects.count(),
    )


def focused_input(response) -> str:
    """The name of the input the page puts the cursor in."""
    [name] = re.findall(r'<input[^>]*name="(\w+)"[^>]*autofocus', response.content.decode())
    return name


def page_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def on_hand(sku, location) -> int:
    return StockLevel.objects.filter(sku=sku, location=location).values_list("on_hand", flat=True).first() or 0


def received(supply, sku) -> int:
    return InboundLine.objects.get(supply=supply, sku=sku).received


@pytest.fixture
def soho_staff(client, network):
    user = staff_create(
        username="sam", password="store-pass-123", role=StaffProfile.Role.STORE_STAFF, store_codes=["ST-SOHO"]
    ).user
    client.force_login(user)
    return client


@pytest.fixture
def po(network):
    """Soho expects 5 of the first SKU (with a barcode) and 2 of the second tomorrow."""
    a, b = network.skus[:2]
    Barcode.objects.create(code=gtin13(501), sku=a)
    return inbound_create(
        reference="PO-1001",
        location=network.soho.code,
        expected_on=TODAY + timedelta(days=1),
        lines=[(a.code, 5), (b.code, 2)],
    )


def token_of(client, supply) -> str:
    """The one-time token of the supply's receiving form, as a freshly drawn page carries it."""
    page = client.get(url("deliveries"))
    return next(s.token for s in page.context["supplies"] if s.pk == supply.pk)


def receive(client, supply, code, quantity="1", *, token=None, store="ST-SOHO"):
    token = token_of(client, supply) if token is None else token
    data = {"code": code, "quantity": quantity, "token": token}
    return client.post(url("delivery_receive", supply.pk, store=store), data)


# --- the page ------------------------------------------------------------------------------


def test_the_page_lists_the_stores_open_deliveries_soonest_first_with_overdue_marked(soho_staff, network, po):
    a, b, c = network.skus
    later = inbound_create(
        reference="ASN-2002", location="ST-SOHO", expected_on=TODAY + timedelta(days=5), lines=[(c.code, 7)]
    )
    late = inbound_create(reference="PO-0999", location="ST-SOHO", expected_on=TODAY, lines=[(a.code, 3)])
    InboundSupply.objects.filter(pk=late.pk).update(expected_on=TODAY - timedelta(days=2))
    closed = inbound_create(reference="PO-CLOSED", location="ST-SOHO", expected_on=TODAY, lines=[(a.code, 1)])
    inbound_close(supply=closed)
    inbound_create(reference="PO-CAMDEN", location="ST-CAMDEN", expected_on=TODAY, lines=[(a.code, 1)])

    response = soho_staff.get(url("deliveries"))

    assert response.status_code == 200
    assert [s.reference for s in response.context["supplies"]] == ["PO-0999", "PO-1001", "ASN-2002"]
    assert [s.overdue for s in response.context["supplies"]] == [True, False, False]
    html = response.content.decode()
    assert html.count("Overdue") == 1 and html.index("Overdue") < html.index("PO-1001")
    assert "PO-CLOSED" not in html and "PO-CAMDEN" not in html
    for sku in (a, b, c):
        assert sku.code in html and sku.name in html
    assert later.reference in html
    assert '<td data-label="Expected" class="num">5</td>' in html
    assert '<td data-label="Still due" class="num">5' in html


def test_each_line_shows_what_is_received_and_still_due(soho_staff, network, po):
    a = network.skus[0]
    assert receive(soho_staff, po, a.code, "3").status_code == 302
    line = next(ln for ln in soho_staff.get(url("deliveries")).context["supplies"][0].lines.all() if ln.sku == a)
    assert (line.quantity, line.received, line.due) == (5, 3, 2)
    html = soho_staff.get(url("deliveries")).content.decode()
    assert '<td data-label="Received" class="num">3</td>' in html
    assert '<td data-label="Still due" class="num">2' in html


def test_the_page_is_linked_from_the_stock_page_and_the_store_navigation(soho_staff, network):
    stock = soho_staff.get(url("stock")).content.decode()
    assert stock.count(f'href="{url("deliveries")}"') == 2  # the navigation and the stock page itself
    page = soho_staff.get(url("deliveries")).content.decode()
    assert f'href="{url("deliveries")}" aria-current="page"' in page
    assert "No supplier deliveries are due at" in page


def test_only_the_stores_own_staff_see_its_deliveries(client, soho_staff, network, po):
    assert soho_staff.get(url("deliveries", store="ST-CAMDEN")).status_code == 404
    client.logout()
    assert client.get(url("deliveries"))["Location"].startswith("/accounts/login/")
    agent = staff_create(username="ann", password="agent-pass-123", role=StaffProfile.Role.AGENT).user
    client.force_login(agent)
    assert client.get(url("deliveries")).status_code == 403
    before = snapshot()
    data = {"code": network.skus[0].code, "quantity": "1"}
    assert client.post(url("delivery_receive", po.pk), data).status_code == 403
    assert snapshot() == before


def test_the_receiving_form_carries_csrf_protection(network, po):
    from django.test import Client

    user = staff_create(
        username="kit", password="store-pass-123", role=StaffProfile.Role.STORE_STAFF, store_codes=["ST-SOHO"]
    ).user
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    html = strict.get(url("deliveries")).content.decode()
    assert 'name="csrfmiddlewaretoken"' in html
    before = snapshot()
    assert receive(strict, po, network.skus[0].code).status_code == 403
    assert snapshot() == before


# --- receiving -----------------------------------------------------------------------------


def test_a_scanned_barcode_receives_one_unit_into_the_store(soho_staff, network, po):
    a = network.skus[0]
    html = soho_staff.get(url("deliveries")).content.decode()
    assert 'name="quantity" value="1"' in html  # a scan alone receives one

    response = receive(soho_staff, po, gtin13(501))

    assert response.status_code == 302
    assert response["Location"] == f"{url('deliveries')}?at={po.pk}#delivery-{po.pk}"
    assert (received(po, a), on_hand(a, network.soho)) == (1, 1)
    movement = StockMovement.objects.get()
    assert (movement.kind, movement.reference, movement.actor.username) == ("receipt", "inbound:PO-1001", "sam")
    after = soho_staff.get(response["Location"])
    assert focused_input(after) == "code"  # ready for the next scan
    said = page_messages(after)
    assert said == [f"Received 1 × {a.code} ({a.name}) from PO-1001 into {network.soho.name}'s stock: 1 of 5 in."]


def test_a_typed_code_in_any_case_and_a_quantity_receive_several(soho_staff, network, po):
    b = network.skus[1]
    response = receive(soho_staff, po, f"  {b.code.lower()} ", "2")
    assert response.status_code == 302
    assert (received(po, b), on_hand(b, network.soho)) == (2, 2)


def test_more_than_expected_is_booked_and_said_in_plain_words(soho_staff, network, po):
    a = network.skus[0]
    response = receive(soho_staff, po, a.code, "8")
    assert (received(po, a), on_hand(a, network.soho)) == (8, 8)
    said = page_messages(soho_staff.get(response["Location"]))
    assert said[0].startswith(f"Received 8 × {a.code}")
    assert said[1].startswith(f"3 more than expected of SKU {a.code} ({a.name}) on PO-1001")


def test_a_document_received_in_full_leaves_the_page(soho_staff, network, po):
    a, b = network.skus[:2]
    receive(soho_staff, po, a.code, "5")
    receive(soho_staff, po, b.code, "2")
    po.refresh_from_db()
    assert po.status == InboundSupply.Status.RECEIVED
    assert soho_staff.get(url("deliveries")).context["supplies"] == []


# --- refused, and nothing changes ----------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "says"),
    [
        ("abc", "“abc” is not a number of units. Type how many arrived as a whole number, such as 2."),
        ("2.5", "“2.5” is not a number of units."),
        ("0", "Type how many units arrived: 1 or more."),
        ("-3", "Type how many units arrived: 1 or more."),
        ("5060000001327", "5,060,000,001,327 is more than the 1,000,000 units a location may hold."),
        ("9" * 5000, "is not a number of units."),
        ("", "Type how many units arrived, such as 2."),
    ],
    ids=["text", "fraction", "zero", "negative", "barcode", "huge", "empty"],
)
def test_a_wrong_quantity_is_refused_in_plain_words(soho_staff, network, po, quantity, says):
    before = snapshot()
    response = receive(soho_staff, po, network.skus[0].code, quantity)
    assert response.status_code == 400
    assert snapshot() == before
    [said] = page_messages(response)
    assert says in said
    assert "Traceback" not in said and "Ensure this value" not in said
    # The refused values stay in the form to correct, echoed short, with the cursor in the quantity.
    assert f'value="{network.skus[0].code}"' in response.content.decode()
    assert len(said) < 200
    assert focused_input(response) == "quantity"


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("NO-SUCH", "No product matches “NO-SUCH”. Check the SKU code, or scan the barcode."),
        ("4006381333931", "No product has the barcode 4006381333931. Scan it again, or type the SKU code."),
        ("", "Scan the product's barcode or type its SKU code."),
        ("x" * 500, "That is too long for a barcode or SKU code. Scan the product again."),
    ],
    ids=["unknown-code", "unknown-barcode", "empty", "too-long"],
)
def test_an_unknown_product_is_refused(soho_staff, network, po, code, says):
    before = snapshot()
    response = receive(soho_staff, po, code, "1")
    assert response.status_code == 400
    assert page_messages(response) == [says]
    assert snapshot() == before
    assert focused_input(response) == "code"


def test_a_product_not_on_the_delivery_is_refused(soho_staff, network, po):
    c = network.skus[2]
    before = snapshot()
    response = receive(soho_staff, po, c.code, "1")
    assert response.status_code == 400
    assert page_messages(response) == [
        f"SKU {c.code} is not on delivery PO-1001. Check the delivery note: it may belong to another delivery."
    ]
    assert snapshot() == before


def test_a_closed_delivery_takes_nothing(soho_staff, network, po):
    token = token_of(soho_staff, po)  # the page was open before the back office closed the document
    inbound_close(supply=po)
    before = snapshot()
    response = receive(soho_staff, po, network.skus[0].code, "1", token=token)
    assert response.status_code == 400
    assert page_messages(response) == ["This delivery is closed: nothing more can be received against it."]
    assert snapshot() == before


def test_another_stores_delivery_is_not_found_under_this_stores_url(soho_staff, network, po):
    a = network.skus[0]
    camden = inbound_create(reference="PO-CAMDEN", location="ST-CAMDEN", expected_on=TODAY, lines=[(a.code, 4)])
    token = token_of(soho_staff, po)
    before = snapshot()
    assert receive(soho_staff, camden, a.code, "1", token=token).status_code == 404
    assert receive(soho_staff, camden, a.code, "1", token=token, store="ST-CAMDEN").status_code == 404
    assert receive(soho_staff, po, a.code, "1", token=token, store="ST-CAMDEN").status_code == 404
    assert soho_staff.post(url("delivery_receive", 987654)).status_code == 404
    assert soho_staff.get(url("delivery_receive", po.pk)).status_code == 405
    assert snapshot() == before


# --- sent twice ----------------------------------------------------------------------------


def test_a_form_sent_twice_receives_once(soho_staff, network, po):
    a = network.skus[0]
    token = token_of(soho_staff, po)
    assert receive(soho_staff, po, a.code, "2", token=token).status_code == 302
    before = snapshot()

    again = receive(soho_staff, po, a.code, "2", token=token)  # a double click, or the browser resending

    assert again.status_code == 302
    assert snapshot() == before
    assert (received(po, a), on_hand(a, network.soho)) == (2, 2)
    said = page_messages(soho_staff.get(again["Location"]))
    assert said[-1].startswith("That receipt was already booked: the same form was sent twice")


def test_the_same_product_received_again_from_a_fresh_page_is_a_second_receipt(soho_staff, network, po):
    a = network.skus[0]
    first, second = token_of(soho_staff, po), token_of(soho_staff, po)
    assert first != second
    receive(soho_staff, po, a.code, "1", token=first)
    receive(soho_staff, po, a.code, "1", token=second)
    assert (received(po, a), on_hand(a, network.soho), StockMovement.objects.count()) == (2, 2, 2)


@pytest.mark.parametrize("token", ["", "not-a-token", "x" * 5000, "0" * 31])
def test_a_form_without_a_proper_token_receives_nothing(soho_staff, network, po, token):
    before = snapshot()
    response = receive(soho_staff, po, network.skus[0].code, "1", token=token)
    assert response.status_code == 302
    assert snapshot() == before


def test_a_refused_receipt_does_not_use_up_the_forms_token(soho_staff, network, po):
    a = network.skus[0]
    token = token_of(soho_staff, po)
    assert receive(soho_staff, po, network.skus[2].code, "1", token=token).status_code == 400
    assert receive(soho_staff, po, a.code, "1", token=token).status_code == 302
    assert received(po, a) == 1


def test_the_page_reads_in_a_fixed_number_of_queries(soho_staff, network, po, django_assert_max_num_queries):
    for n in range(5):
        inbound_create(
            reference=f"ASN-{n}",
            location="ST-SOHO",
            expected_on=TODAY,
            lines=[(sku.code, n + 1) for sku in network.skus],
        )
    with django_assert_max_num_queries(12):
        assert soho_staff.get(url("deliveries")).status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_form_sent_five_times_at_once_receives_once(network, po):
    a = network.skus[0]
    token = receipt_token()

    def send():
        return delivery_receive(supply=po, code=a.code, quantity=2, token=token, actor=None)

    results = place_concurrently([send] * 5)

    assert sorted(type(r).__name__ for r in results) == ["SentTwice"] * 4 + ["dict"]
    assert (received(po, a), on_hand(a, network.soho), StockMovement.objects.count()) == (2, 2, 1)


# --- two tablets -----------------------------------------------------------------------------


def drawn(client, supply) -> dict:
    """The hidden values of the supply's receiving form on a freshly drawn page."""
    html = client.get(url("deliveries")).content.decode()
    form = html[html.index(f'action="{url("delivery_receive", supply.pk)}"') :]
    return {name: re.search(rf'name="{name}" value="([^"]*)"', form).group(1) for name in ("token", "seen")}


def test_a_second_tablet_counting_the_same_box_again_is_stopped_before_it_goes_over(soho_staff, network, po):
    """Both tablets drew the page at 0 of 2; the second's 2 would make 4 of 2: refused, the page redrawn."""
    b = network.skus[1]
    first, second = drawn(soho_staff, po), drawn(soho_staff, po)
    assert first["seen"] == second["seen"] == "0"
    soho_staff.post(url("delivery_receive", po.pk), {"code": b.code, "quantity": "2", **first}, follow=True)
    before = snapshot()

    response = soho_staff.post(url("delivery_receive", po.pk), {"code": b.code, "quantity": "2", **second})

    assert response.status_code == 400
    assert snapshot() == before
    assert page_messages(response) == [
        f"Someone else has just received against {po.reference}: 2 of 2 × {b.code} are in now, so these 2 would be "
        "more than the delivery note says. Nothing was booked. If more really arrived, scan them again."
    ]
    assert (received(po, b), on_hand(b, network.soho)) == (2, 2)
    again = drawn(soho_staff, po)
    assert again["seen"] == "2"
    soho_staff.post(url("delivery_receive", po.pk), {"code": b.code, "quantity": "1", **again})  # a real extra one
    assert (received(po, b), on_hand(b, network.soho)) == (3, 3)


def test_a_second_tablet_receiving_within_what_is_due_books_as_usual(soho_staff, network, po):
    a, b = network.skus[:2]
    first, second = drawn(soho_staff, po), drawn(soho_staff, po)
    soho_staff.post(url("delivery_receive", po.pk), {"code": a.code, "quantity": "2", **first})
    assert (
        soho_staff.post(url("delivery_receive", po.pk), {"code": a.code, "quantity": "3", **second}).status_code == 302
    )
    assert received(po, a) == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_tablets_sending_the_same_count_at_once_book_it_once(network, po):
    b = network.skus[1]

    def send():
        return delivery_receive(supply=po, code=b.code, quantity=2, token=receipt_token(), actor=None, seen=0)

    results = place_concurrently([send] * 2)

    assert sorted(type(r).__name__ for r in results) == ["ReceivedElsewhere", "dict"]
    assert (received(po, b), on_hand(b, network.soho), StockMovement.objects.count()) == (2, 2, 1)
