import threading

import pytest
from django.db import connection

from inventory.models import StockLevel
from inventory.selectors import inventory_discrepancies
from oms.exceptions import TransitionNotAllowed
from returns.models import Return
from returns.services import ReceivedLine, ReturnLineInput, return_receive, return_request


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
