import threading
from decimal import Decimal

import pytest
from django.db import connection

from inventory.models import StockLevel
from inventory.selectors import inventory_discrepancies
from oms.exceptions import TransitionNotAllowed
from oms.models import OutboxEvent, StaffProfile
from oms.services import staff_create
from returns.approvals import RefundDecisionNotAllowed, refund_request_approve, refund_request_create
from returns.models import Refund, RefundRequest, Return
from returns.receiving import ReceivedLine, return_receive
from returns.requests import ReturnLineInput, return_request

from .support import received_return


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_same_return_received_at_once_from_two_connections_restocks_once(network, delivered_web_order):
    sku = network.skus[0]
    ret = return_request(order=delivered_web_order, lines=[ReturnLineInput(sku.code, 2)])
    barrier = threading.Barrier(2)
    outcomes = []

    def receive(location):
        try:
            barrier.wait()
            return_receive(ret=Return.objects.get(pk=ret.pk), location=location, lines=[ReceivedLine(sku.code, 2)])
            outcomes.append("received")
        except TransitionNotAllowed:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=receive, args=(loc,)) for loc in (network.soho, network.camden)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["received", "refused"]
    restocked = StockLevel.objects.filter(sku=sku, location__in=[network.soho, network.camden])
    assert sorted(restocked.values_list("on_hand", flat=True)) == [2]
    assert inventory_discrepancies() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_supervisors_approving_one_refund_request_at_once_refund_once(network, settings):
    settings.OMS_REFUND_APPROVAL_LIMIT = Decimal("100.00")
    ret = received_return(network)
    agent = staff_create(username="ann", password="pw-123456789", role=StaffProfile.Role.AGENT).user
    request = refund_request_create(ret=ret, actor=agent)
    bosses = [
        staff_create(username=name, password="pw-123456789", role=StaffProfile.Role.SUPERVISOR).user
        for name in ("boss", "chief")
    ]
    barrier = threading.Barrier(2)
    outcomes = []

    def approve(boss):
        try:
            barrier.wait()
            refund_request_approve(request=RefundRequest.objects.get(pk=request.pk), actor=boss)
            outcomes.append("approved")
        except RefundDecisionNotAllowed:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(boss,)) for boss in bosses]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["approved", "refused"]
    assert Refund.objects.filter(ret=ret).count() == 1
    assert OutboxEvent.objects.filter(type="refund.requested", data__return=ret.reference).count() == 1
