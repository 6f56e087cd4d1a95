import threading

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from oms.models import ApiToken, IdempotencyKey, Order
from oms.services import idempotency_keys_expire
from oms.tasks import expire_idempotency_keys
from tests.api.conftest import assert_problem, order_body


def test_without_or_with_a_wrong_or_revoked_token_is_401(api, token, network):
    assert_problem(APIClient().get("/api/v1/orders"), 401)
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Token oms_not-a-real-token")
    assert_problem(wrong.get("/api/v1/orders"), 401)
    assert APIClient().get("/api/v1/orders").headers["WWW-Authenticate"].startswith("Token")
    assert api.get("/api/v1/orders").status_code == 200
    ApiToken.objects.update(revoked_at=timezone.now())
    assert_problem(api.get("/api/v1/orders"), 401)  # at once: nothing about a token is kept between requests


def test_a_deactivated_channels_token_is_401(api, network):
    assert api.get("/api/v1/orders").status_code == 200
    network.web.active = False
    network.web.save()
    assert_problem(api.get("/api/v1/orders"), 401)


def test_token_use_is_recorded(api, network):
    api.get("/api/v1/orders")
    assert ApiToken.objects.get().last_used_at is not None


def test_non_staff_session_is_403(db, django_user_model):
    client = APIClient()
    client.force_authenticate(django_user_model.objects.create_user("shopper"))
    assert_problem(client.get("/api/v1/orders"), 403)


def test_unknown_api_path_is_a_problem_404(api):
    assert_problem(api.get("/api/v1/nothing-here"), 404)
    assert_problem(api.get("/api/v1/orders/123456789012345678901234567890"), 404)


@override_settings(OMS_API_RATE="3/min")
def test_too_many_requests_for_a_token_is_429_with_retry_after(api, other_api, network):
    for _ in range(3):
        assert api.get("/api/v1/orders").status_code == 200
    response = api.get("/api/v1/orders")
    assert_problem(response, 429)
    assert int(response["Retry-After"]) > 0
    assert other_api.get("/api/v1/orders").status_code == 200  # counted per token


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_body_too_large_is_413(api, network):
    body = order_body(network, [(network.skus[0], 1)], external_id="x" * 64)
    body["customer"]["name"] = "n" * 2000
    assert_problem(api.post("/api/v1/orders", body, format="json"), 413)
    assert not Order.objects.exists()


def test_same_key_and_body_replays_the_first_response_and_creates_nothing_more(api, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    body = order_body(network, [(sku, 1)])
    first = api.post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1 and network.level(network.soho, sku).reserved == 1
    other = api.post("/api/v1/orders", {**body, "external_id": "WEB-2"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert_problem(other, 422)
    assert Order.objects.count() == 1


def test_a_failed_request_stores_no_key_so_a_retry_runs_again(api, network):
    sku = network.skus[0]
    body = order_body(network, [(sku, 1)])
    assert_problem(api.post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="k-2"), 409)
    assert not IdempotencyKey.objects.exists()
    network.stock(network.soho, sku, 5)
    assert api.post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="k-2").status_code == 201


def test_keys_expire_after_their_time_to_live(api, network, settings):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    api.post("/api/v1/orders", order_body(network, [(sku, 1)]), format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    settings.OMS_IDEMPOTENCY_TTL_HOURS = 1
    assert idempotency_keys_expire() == 0
    assert idempotency_keys_expire(now=timezone.now() + timezone.timedelta(hours=2)) == 1
    assert expire_idempotency_keys.delay().get() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_repeats_of_one_key_place_one_order(network, token):
    sku = network.skus[0]
    network.stock(network.soho, sku, 10)
    body = order_body(network, [(sku, 1)])
    statuses, barrier = [], threading.Barrier(4)

    def post():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        barrier.wait()
        statuses.append(client.post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="race").status_code)
        connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [201] * 4  # the first response, replayed to the others
    assert Order.objects.count() == 1 and network.level(network.soho, sku).reserved == 1
