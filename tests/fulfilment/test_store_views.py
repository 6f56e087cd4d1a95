"""The store work pages through Django's test client: scope, queue, picking by scan, pack and
ship, decline, click-and-collect handover, and a fixed number of queries per page."""

from datetime import timedelta
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fulfilment.actions import fulfilment_accept, fulfilment_pick
from fulfilment.models import Fulfilment
from fulfilment.pickups import fulfilment_expire, fulfilment_ready, pickups_expire
from fulfilment.store_work import fulfilment_pick_list
from inventory.models import Barcode
from oms.models import OutboxEvent, StaffProfile
from oms.services import note_add, staff_create
from tests.factories import SkuFactory, gtin13
from tests.orders_support import place

pytestmark = pytest.mark.django_db
S = Fulfilment.Status
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def shop(network):
    """Soho has stock of every SKU (each with a barcode); Camden has some too, to re-route to."""
    for n, sku in enumerate(network.skus):
        Barcode.objects.create(code=gtin13(1000 + n), sku=sku)
        network.stock(network.soho, sku, 100)
        network.stock(network.camden, sku, 100)
    return network


@pytest.fixture
def soho_staff(client, shop):
    user = staff_create(
        username="sam", password="store-pass-123", role=StaffProfile.Role.STORE_STAFF, store_codes=["ST-SOHO"]
    ).user
    client.force_login(user)
    return client


def url(name, *args, store="ST-SOHO"):
    return reverse(f"store:{name}", args=[store, *args])


def barcode(sku) -> str:
    return sku.barcodes.get().code


ORDER_IDS = count(1)


def order_at_soho(network, lines=None, **kwargs):
    kwargs.setdefault("external_id", f"WEB-{next(ORDER_IDS)}")
    order = place(network, lines or [(network.skus[0], 2)], **kwargs)
    fulfilment = order.fulfilments.get()
    assert fulfilment.location == network.soho
    return fulfilment


def status_of(fulfilment) -> str:
    return Fulfilment.objects.get(pk=fulfilment.pk).status


def scanned(fulfilment) -> dict[str, int]:
    """Units scanned so far per SKU code, as every tablet of the store sees them."""
    lines = fulfilment.lines.filter(scanned_quantity__gt=0).values_list("sku__code", "scanned_quantity")
    return dict(lines)


def page_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- sign-in and scope -------------------------------------------------------------------


def test_signed_out_people_are_sent_to_sign_in_and_agents_are_refused(client, shop):
    f = order_at_soho(shop)
    assert client.get(url("queue"))["Location"].startswith("/accounts/login/")
    agent = staff_create(username="ann", password="agent-pass-123", role=StaffProfile.Role.AGENT).user
    client.force_login(agent)
    assert client.get(url("queue")).status_code == 403
    assert client.post(url("fulfilment_accept", f.pk)).status_code == 403
    assert status_of(f) == S.PENDING


def test_staff_of_one_store_cannot_see_or_act_on_another_stores_work(soho_staff, shop):
    a, b = shop.skus[:2]
    for sku in (a, b):
        shop.stock(shop.leeds, sku, 5)
    leeds = place(shop, [(a, 1)], external_id="WEB-LEEDS", lat=53.80, lon=-1.55).fulfilments.get()
    assert leeds.location == shop.leeds
    before = (status_of(leeds), shop.level(shop.leeds, a).reserved)

    assert soho_staff.get(url("queue", store="ST-LEEDS")).status_code == 404
    assert soho_staff.get(url("fulfilment", leeds.pk, store="ST-LEEDS")).status_code == 404
    assert soho_staff.get(url("fulfilment", leeds.pk)).status_code == 404  # Leeds' work under Soho's URL
    assert soho_staff.get(url("pick_list", leeds.pk)).status_code == 404
    for name, data in [
        ("fulfilment_accept", {}),
        ("fulfilment_decline", {"reason": "damaged"}),
        ("pick_scan", {"code": barcode(a)}),
        ("fulfilment_ready", {}),
        ("fulfilment_collect", {"pickup_code": "123456"}),
    ]:
        assert soho_staff.post(url(name, leeds.pk), data).status_code == 404, name
        assert soho_staff.post(url(name, leeds.pk, store="ST-LEEDS"), data).status_code == 404, name
    assert (status_of(leeds), shop.level(shop.leeds, a).reserved) == before
    assert leeds.order.number not in soho_staff.get(url("queue")).content.decode()


def test_staff_of_several_stores_choose_and_switch(client, shop):
    user = staff_create(
        username="kim",
        password="store-pass-123",
        role=StaffProfile.Role.STORE_STAFF,
        store_codes=["ST-SOHO", "ST-CAMDEN"],
    ).user
    client.force_login(user)
    chooser = client.get(reverse("store:home")).content.decode()
    assert url("queue") in chooser and url("queue", store="ST-CAMDEN") in chooser
    page = client.get(url("queue", store="ST-CAMDEN")).content.decode()
    assert 'id="store-switch"' in page and 'value="ST-SOHO"' in page


# --- the queue ---------------------------------------------------------------------------


def test_queue_lists_open_work_soonest_due_first_with_overdue_standing_out(soho_staff, shop):
    a, b = shop.skus[:2]
    later = order_at_soho(shop, [(a, 1)], external_id="WEB-LATER")
    overdue = order_at_soho(shop, [(b, 3)], external_id="WEB-OVERDUE")
    Fulfilment.objects.filter(pk=overdue.pk).update(created_at=timezone.now() - timedelta(hours=6))
    pickup = order_at_soho(shop, [(a, 1)], external_id="WEB-PICKUP", method="pickup", store=shop.soho)
    fulfilment_accept(fulfilment=pickup)

    response = soho_staff.get(url("queue"))
    rows = list(response.context["rows"])
    assert [f.pk for f in rows] == [overdue.pk, pickup.pk, later.pk]
    assert [f.overdue for f in rows] == [True, False, False]
    page = response.content.decode()
    assert 'class="overdue"' in page and "Overdue by" in page
    states = {s["status"]: (s["n"], s["overdue"]) for s in response.context["states"]}
    assert states == {"pending": (2, 1), "accepted": (1, 0), "picking": (0, 0), "packed": (0, 0)}

    by_method = soho_staff.get(url("queue"), {"method": "click_and_collect"}).context["rows"]
    assert [f.pk for f in by_method] == [pickup.pk]
    by_state = soho_staff.get(url("queue"), {"status": "pending"}).context["rows"]
    assert [f.pk for f in by_state] == [overdue.pk, later.pk]


def test_queue_polls_itself_and_htmx_gets_only_the_table(soho_staff, shop):
    f = order_at_soho(shop)
    page = soho_staff.get(url("queue")).content.decode()
    assert "<html" in page and 'hx-trigger="every' in page
    partial = soho_staff.get(url("queue"), {"method": "ship_from_store"}, **HTMX)
    body = partial.content.decode()
    assert "<html" not in body and body.lstrip().startswith('<div id="work-table"')
    assert "method=ship_from_store" in body and f.order.number in body
    assert "HX-Request" in partial["Vary"]


# --- ship from store ---------------------------------------------------------------------


def test_accept_pick_by_scanning_pack_and_ship(soho_staff, shop):
    a, b, c = shop.skus
    f = order_at_soho(shop, [(a, 2), (b, 1)])
    response = soho_staff.post(url("fulfilment_accept", f.pk))
    assert response["Location"] == url("pick", f.pk) and status_of(f) == S.ACCEPTED

    wrong = soho_staff.post(url("pick_scan", f.pk), {"code": barcode(c)}, **HTMX)
    assert "not on this order. Nothing counted." in wrong.content.decode()
    assert 'role="alert"' in wrong.content.decode()
    unknown = soho_staff.post(url("pick_scan", f.pk), {"code": "4006381333931"}, **HTMX)
    assert "Unknown barcode 4006381333931: nothing counted." in unknown.content.decode()
    assert scanned(f) == {}

    for code in (barcode(a), barcode(a), a.code, barcode(b)):  # a third a is one too many
        soho_staff.post(url("pick_scan", f.pk), {"code": code}, **HTMX)
    assert scanned(f) == {a.code: 2, b.code: 1}
    panel = soho_staff.get(url("pick", f.pk)).content.decode()
    assert "3 of 3</strong> units scanned" in panel

    response = soho_staff.post(url("pick_confirm", f.pk))
    assert response["Location"] == url("fulfilment", f.pk)
    f.refresh_from_db()
    assert f.status == S.PICKING and {fl.sku_id: fl.picked_quantity for fl in f.lines.all()} == {a.pk: 2, b.pk: 1}

    refused = soho_staff.post(url("fulfilment_pack", f.pk), {"parcels": "0", "weight_kg": "1.2"})
    assert refused.status_code == 400 and status_of(f) == S.PICKING
    soho_staff.post(url("fulfilment_pack", f.pk), {"parcels": "2", "weight_kg": "1.25"})
    f.refresh_from_db()
    assert (f.status, f.parcels, str(f.weight_kg)) == (S.PACKED, 2, "1.250")
    slip = soho_staff.get(url("packing_slip", f.pk)).content.decode()
    assert "2 parcels" in slip and "1 Test Street" in slip

    assert soho_staff.post(url("fulfilment_ship", f.pk), {"carrier": "DPD", "tracking": ""}).status_code == 400
    soho_staff.post(url("fulfilment_ship", f.pk), {"carrier": "DPD", "tracking": "TRK-1"})
    f.refresh_from_db()
    assert (f.status, f.carrier, f.tracking) == (S.SHIPPED, "DPD", "TRK-1")
    assert f.order.status == "shipped"
    assert shop.level(shop.soho, a).on_hand == 98


def test_a_wrong_scan_after_the_last_unit_counts_nothing(soho_staff, shop):
    a = shop.skus[0]
    f = order_at_soho(shop, [(a, 1)])
    fulfilment_accept(fulfilment=f)
    soho_staff.post(url("pick_scan", f.pk), {"code": barcode(a)})
    response = soho_staff.post(url("pick_scan", f.pk), {"code": barcode(a)}, follow=True)
    assert "All 1 of" in page_messages(response)[-1]
    assert scanned(f) == {a.code: 1}
    soho_staff.post(url("pick_undo", f.pk), {"sku": a.code})
    assert scanned(f) == {}


def test_short_pick_needs_a_reason_then_reroutes_the_rest(soho_staff, shop):
    a = shop.skus[0]
    f = order_at_soho(shop, [(a, 2)])
    fulfilment_accept(fulfilment=f)
    soho_staff.post(url("pick_scan", f.pk), {"code": barcode(a)})

    response = soho_staff.post(url("pick_confirm", f.pk), follow=True)
    assert "say why they are short" in page_messages(response)[-1]
    assert status_of(f) == S.ACCEPTED

    soho_staff.post(url("pick_confirm", f.pk), {"short_reason": "damaged"})
    f.refresh_from_db()
    assert f.status == S.PICKING and f.lines.get().quantity == 1
    assert f.order.fulfilments.get(status=S.PENDING).location == shop.camden
    assert scanned(f) == {a.code: 1}  # what was scanned is what was picked


def test_decline_needs_a_reason_and_reroutes_to_another_store(soho_staff, shop):
    f = order_at_soho(shop)
    refused = soho_staff.post(url("fulfilment_decline", f.pk), {"reason": ""})
    assert refused.status_code == 400 and status_of(f) == S.PENDING

    response = soho_staff.post(url("fulfilment_decline", f.pk), {"reason": "mismatch"}, follow=True)
    assert status_of(f) == S.DECLINED
    assert "re-routed to ST-CAMDEN" in page_messages(response)[-1]
    assert [g.location.code for g in f.order.fulfilments.filter(status=S.PENDING)] == ["ST-CAMDEN"]


def test_an_action_the_state_does_not_allow_is_refused_with_a_message(soho_staff, shop):
    f = order_at_soho(shop)
    response = soho_staff.post(url("fulfilment_ship", f.pk), {"carrier": "DPD", "tracking": "T"}, follow=True)
    assert "allowed now: accept, cancel, decline" in page_messages(response)[-1]
    assert status_of(f) == S.PENDING
    assert soho_staff.get(url("pick", f.pk))["Location"] == url("fulfilment", f.pk)
    assert soho_staff.get(url("packing_slip", f.pk)).status_code == 404


def test_pick_list_walks_the_store_by_category_then_attributes_then_code(shop):
    shirt_l = SkuFactory(code="Z-SHIRT-L", category="tops", attributes={"colour": "blue", "size": "L"})
    shirt_m = SkuFactory(code="A-SHIRT-M", category="tops", attributes={"colour": "red", "size": "M"})
    boots = SkuFactory(code="B-BOOTS", category="footwear", attributes={"colour": "black", "size": "42"})
    for sku in (shirt_l, shirt_m, boots):
        shop.stock(shop.soho, sku, 3)
    f = order_at_soho(shop, [(shirt_m, 1), (boots, 1), (shirt_l, 2)])
    groups = fulfilment_pick_list(fulfilment=f)
    assert [(g.category, [i.sku.code for i in g.items]) for g in groups] == [
        ("footwear", ["B-BOOTS"]),
        ("tops", ["Z-SHIRT-L", "A-SHIRT-M"]),  # blue before red, whatever the codes say
    ]
    assert groups[1].items[0].details == "blue, L" and groups[1].items[0].quantity == 2


# --- click and collect -------------------------------------------------------------------

CUSTOMER = {"email": "jo@example.com", "name": "Jo Bloggs", "phone": "+44 7700 900123"}


def ready_pickup(network, soho_staff):
    a = network.skus[0]
    f = order_at_soho(network, [(a, 1)], method="pickup", store=network.soho, customer=CUSTOMER)
    fulfilment_accept(fulfilment=f)
    fulfilment_pick(fulfilment=f, picked={a.code: 1})
    response = soho_staff.post(url("fulfilment_ready", f.pk), follow=True)
    assert "the customer has been sent their code" in page_messages(response)[-1]
    f.refresh_from_db()
    assert f.status == S.READY_FOR_PICKUP
    assert OutboxEvent.objects.filter(type="fulfilment.ready_for_pickup", order=f.order).exists()
    return f


def test_ready_parcels_are_on_the_shelf_with_their_age(soho_staff, shop):
    f = ready_pickup(shop, soho_staff)
    Fulfilment.objects.filter(pk=f.pk).update(ready_at=timezone.now() - timedelta(hours=26))
    page = soho_staff.get(url("pickups")).content.decode()
    assert f.order.number in page and "1 d 2 h" in page


def test_handover_finds_the_parcel_and_verifies_the_code(soho_staff, shop):
    f = ready_pickup(shop, soho_staff)
    for query in (f.order.number, "bloggs", "07700 900123", f.pickup_code):
        found = soho_staff.get(url("handover"), {"q": query}).context["found"]
        assert [p.pk for p in found] == [f.pk], query
    assert soho_staff.get(url("handover"), {"q": "nobody"}).context["found"] == []
    assert f.pickup_code not in soho_staff.get(url("handover"), {"q": f.order.number}).content.decode()

    wrong = "000000" if f.pickup_code != "000000" else "111111"
    response = soho_staff.post(url("fulfilment_collect", f.pk), {"pickup_code": wrong, "q": "bloggs"}, follow=True)
    assert "That pickup code is not right." in page_messages(response)[-1]
    assert status_of(f) == S.READY_FOR_PICKUP

    response = soho_staff.post(url("fulfilment_collect", f.pk), {"pickup_code": f.pickup_code}, follow=True)
    assert page_messages(response)[-1] == f"Order {f.order.number} handed over to Jo Bloggs: collected."
    assert status_of(f) == S.COLLECTED


def test_expired_pickups_are_listed_until_their_stock_is_put_back(soho_staff, shop, settings):
    f = ready_pickup(shop, soho_staff)
    pickups_expire(now=timezone.now() + timedelta(days=settings.OMS_PICKUP_EXPIRY_DAYS + 1))
    assert [p.pk for p in soho_staff.get(url("pickups")).context["put_back"]] == [f.pk]

    soho_staff.post(url("fulfilment_put_back", f.pk))
    assert soho_staff.get(url("pickups")).context["put_back"] == []
    again = soho_staff.post(url("fulfilment_put_back", f.pk), follow=True)
    assert "already put back" in page_messages(again)[-1]


# --- queries per page --------------------------------------------------------------------

# Every page pays the same fixed overhead: session, user, staff profile, the person's stores,
# the store in the URL, and the store switcher's list; the numbers below include those six
# (the htmx table has no switcher). Then the queue: counts per state and the rows; a
# fulfilment: it and its lines (and barcodes for picking); the queue, a fulfilment, the pick
# page and the pick list also read the orders' notes for stores, in one query; the shelf: the
# parcels waiting, the parcels to put back and their lines; handover: the customer identifiers,
# the parcels and their lines.
PAGE_QUERIES = {
    "queue": 9,  # with the transfers the store is to ship
    "queue (htmx)": 7,
    "fulfilment": 8,
    "pick": 9,
    "pick_list": 9,
    "packing_slip": 7,
    "pickups": 8,
    "handover": 8,
}


def _pages(network, staff) -> dict[str, str]:
    """One fulfilment of each kind the pages show, and the URL of every page."""
    a, b, c = network.skus
    work = order_at_soho(network, [(a, 1), (b, 2), (c, 1)])
    fulfilment_accept(fulfilment=work)
    note_add(order=work.order, text="Gift wrap, please.")
    note_add(order=work.order, text="Checked for fraud.", internal=True)
    packed = order_at_soho(network, [(a, 1), (b, 1)])
    fulfilment_accept(fulfilment=packed)
    fulfilment_pick(fulfilment=packed, picked={a.code: 1, b.code: 1})
    shelf = order_at_soho(network, [(a, 1)], method="pickup", store=network.soho, customer=CUSTOMER)
    fulfilment_accept(fulfilment=shelf)
    fulfilment_pick(fulfilment=shelf, picked={a.code: 1})
    fulfilment_ready(fulfilment=shelf)
    gone = order_at_soho(network, [(b, 1)], method="pickup", store=network.soho, customer=CUSTOMER)
    fulfilment_accept(fulfilment=gone)
    fulfilment_pick(fulfilment=gone, picked={b.code: 1})
    fulfilment_expire(fulfilment=fulfilment_ready(fulfilment=gone))
    return {
        "queue": url("queue"),
        "fulfilment": url("fulfilment", work.pk),
        "pick": url("pick", work.pk),
        "pick_list": url("pick_list", work.pk),
        "packing_slip": url("packing_slip", packed.pk),
        "pickups": url("pickups"),
        "handover": url("handover") + "?q=Bloggs",
    }


def _queries(client, path: str, **headers) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path, **headers).status_code == 200, path
    return len(queries)


def test_each_page_takes_a_fixed_number_of_queries_however_much_work_there_is(soho_staff, shop):
    pages = _pages(shop, soho_staff)
    first = {name: _queries(soho_staff, path) for name, path in pages.items()}
    first["queue (htmx)"] = _queries(soho_staff, pages["queue"], **HTMX)
    for _ in range(5):  # more work of every kind, more of it in the queue and on the shelf
        _pages(shop, soho_staff)
    again = {name: _queries(soho_staff, path) for name, path in pages.items()}
    again["queue (htmx)"] = _queries(soho_staff, pages["queue"], **HTMX)
    assert first == again == PAGE_QUERIES


def test_the_queue_filter_offers_only_the_stores_own_methods(soho_staff):
    page = soho_staff.get("/store/ST-SOHO/").content.decode()
    assert "Ship from store" in page and "Click &amp; collect" in page
    assert "Ship from warehouse" not in page
