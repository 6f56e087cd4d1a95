"""Staff pages say why something was refused in the retailer's words, never in the API's;
the API's own answers do not change."""

import pytest
from django.urls import reverse

from core.errors import InvalidInput
from core.staff_messages import staff_message
from fulfilment.actions import fulfilment_accept, fulfilment_pick
from fulfilment.exceptions import PickupCodeRefused
from fulfilment.pickups import fulfilment_ready
from inventory.exceptions import InsufficientStock, Shortfall, StockConflict
from oms.exceptions import TransitionNotAllowed
from tests.conftest import store_staff_client
from tests.factories import SkuFactory
from tests.orders_support import place

pytestmark = pytest.mark.django_db
API_WORDS = ["@network", "wants", "send lat and lon", "Wrong code", "must be below", "pickup code:", "fulfilment:"]


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_each_kind_of_refusal_reads_as_a_sentence_for_staff(network):
    SkuFactory(code="SHIRT-BLUE-M", name="Blue Shirt M")
    said = {
        "stock": staff_message(InsufficientStock([Shortfall("SHIRT-BLUE-M", None, 500, 403)])),
        "stock here": staff_message(InsufficientStock([Shortfall("SHIRT-BLUE-M", "ST-SOHO", 2, 0)])),
        "postcode": staff_message(
            InvalidInput("No coordinates.", errors={"destination.postcode": ["Unknown postcode; send lat and lon."]})
        ),
        "total": staff_message(
            InvalidInput("The order total is too large.", errors={"lines": ["The total must be below 10000000000."]})
        ),
        "wrong code": staff_message(PickupCodeRefused("No match.", field_error="Wrong code.", tries_left=3)),
        "last try": staff_message(PickupCodeRefused("No match.", field_error="Wrong code.", tries_left=1)),
        "malformed": staff_message(PickupCodeRefused("A pickup code is 6 digits.", field_error="6 digits.")),
        "locked": staff_message(PickupCodeRefused("Locked.", field_error="Locked.", locked_minutes=15)),
        "state": staff_message(
            TransitionNotAllowed(
                "Cannot ship fulfilment:4 while it is pending; allowed now: accept, decline.",
                current="pending",
                allowed=["accept", "decline"],
            )
        ),
        "conflict": staff_message(
            StockConflict("SKU-1@ST-SOHO: counted 1 but 2 are reserved; release them.", errors={"counted": ["Below."]})
        ),
        "missing": staff_message(
            InvalidInput(
                "Incomplete.",
                errors={"fulfilment.address.line1": ["Required."], "fulfilment.address.postcode": ["Required."]},
            )
        ),
    }
    assert said["stock"] == "Only 403 of 500 units of Blue Shirt M are available across the network."
    assert said["stock here"] == f"No units of Blue Shirt M are available at {network.soho.name} (2 wanted)."
    assert said["postcode"] == "We do not know that postcode. Enter the customer's postcode or pick a store."
    assert (
        said["total"]
        == "An order must come to less than 10,000,000,000. Lower the quantities or split it into two orders."
    )
    assert said["wrong code"] == "That pickup code is not right. 3 tries left."
    assert said["last try"] == "That pickup code is not right. 1 try left."
    assert said["malformed"].startswith("A pickup code is 6 digits") and "did not count" in said["malformed"]
    assert "15 minutes" in said["locked"]
    assert said["state"] == "You cannot ship it while it is pending; allowed now: accept, decline."
    assert said["conflict"] == "Counted 1 but 2 are reserved; release them. Below."
    assert said["missing"] == "Enter the first address line and the postcode."
    assert staff_message(InvalidInput("The pick does not match.", errors={"lines.SKU-9": ["Not on this order."]})) == (
        "The pick does not match. SKU-9: Not on this order."
    )
    for name, text in said.items():
        assert not any(word in text for word in API_WORDS), (name, text)


def test_the_handover_counter_says_how_many_tries_are_left(network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 1)
    f = place(network, [(sku, 1)], method="pickup", store=network.soho).fulfilments.get()
    fulfilment_accept(fulfilment=f)
    fulfilment_pick(fulfilment=f, picked={sku.code: 1})
    f = fulfilment_ready(fulfilment=f)
    wrong = "000000" if f.pickup_code != "000000" else "111111"
    staff = store_staff_client(network.soho)
    response = staff.post(
        reverse("store:fulfilment_collect", args=["ST-SOHO", f.pk]), {"pickup_code": wrong}, follow=True
    )
    assert _messages(response)[-1] == "That pickup code is not right. 4 tries left."


def test_the_back_office_names_an_unknown_postcode_in_plain_words(network, client):
    from oms.models import StaffProfile
    from oms.services import staff_create

    sku = network.skus[0]
    network.stock(network.soho, sku, 1)
    order = place(network, [(sku, 1)])
    client.force_login(staff_create(username="ann", password="agent-pass-1234", role=StaffProfile.Role.AGENT).user)
    address = {"line1": "1 Nowhere Lane", "city": "Atlantis", "postcode": "ZZ99 9ZZ", "country": "GB"}
    response = client.post(reverse("backoffice:order_action", args=[order.pk, "address"]), address, follow=True)
    text = _messages(response)[-1]
    assert text == "Nothing was changed. The postcode ZZ99 9ZZ is not a known GB postcode. Check it with the customer."


def test_an_adjustment_of_nothing_is_refused_without_naming_the_api_field(network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 3)
    staff = store_staff_client(network.soho)
    adjust = reverse("store:stock_adjust", args=["ST-SOHO"])

    response = staff.post(adjust, {"sku": sku.code, "delta": "0", "reason": "lost"}, follow=True)

    said = " ".join(_messages(response))
    assert "delta" not in said.lower(), said
    assert said == "Must not be zero. Enter how many units to add, or take out with a minus sign (e.g. -2).", said
    assert network.level(network.soho, sku).on_hand == 3


def test_an_unknown_refund_method_reads_as_a_choice_not_a_list_of_codes(network):
    said = staff_message(
        InvalidInput("Unknown refund method.", errors={"method": ["One of ['original_tenders', 'store_credit']."]})
    )
    assert "original_tenders" not in said and "[" not in said, said
    assert said == "Unknown refund method. Choose the original payment or store credit."


@pytest.mark.parametrize("typed", ["abc", "12"])
def test_a_phone_that_is_not_one_is_named_without_the_phone_librarys_words(typed):
    from oms.identity import normalise_phone

    with pytest.raises(InvalidInput) as refused:
        normalise_phone(typed)
    said = staff_message(refused.value)
    assert "(1)" not in said and "string supplied" not in said and ".." not in said, said
    assert said == "That phone number is not right: check it with the customer.", said


def test_core_knows_no_apps_words_each_app_registers_its_own():
    """core sits below every app: the sentences for an app's refusals live in that app."""
    import inspect

    import core.staff_messages as core_messages
    from core.staff_messages import DESCRIBERS, FIELD_SENTENCES, FIELD_WORDS

    code = inspect.getsource(core_messages).split('"""', 2)[2]  # after the module's docstring
    for app_words in ["postcode", "phone", "inbound supply", "refund", "delta", "pickup", "external_id", "total"]:
        assert app_words not in code
    owners = {say.__module__ for _, _, say in FIELD_SENTENCES} | {d.__module__ for d in DESCRIBERS.values()}
    assert owners == {f"{app}.refusal_sentences" for app in ("inventory", "oms", "fulfilment", "returns")}
    assert FIELD_WORDS["delta"] == "change" and FIELD_WORDS["customer.phone"] == "phone number"
