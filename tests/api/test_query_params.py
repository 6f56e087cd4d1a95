"""Query parameters are validated as strictly as bodies: an empty or malformed one is a 400."""

import pytest

from tests.api.conftest import assert_problem, order_body


@pytest.mark.parametrize("page_size", ["null", "", "0", "-1", "201", "abc", "1.5"])
def test_a_page_size_that_is_not_a_whole_number_from_1_to_200_is_a_400(api, network, page_size):
    assert_problem(api.get("/api/v1/orders", {"page_size": page_size}), 400, "page_size")


def test_a_valid_page_size_is_used(api, network):
    network.stock(network.soho, network.skus[0], 5)
    for n in range(3):
        api.post("/api/v1/orders", order_body(network, [(network.skus[0], 1)], external_id=f"W-{n}"), format="json")
    assert len(api.get("/api/v1/orders", {"page_size": "2"}).json()["results"]) == 2
    assert len(api.get("/api/v1/orders", {"page_size": "200"}).json()["results"]) == 3


@pytest.mark.parametrize("query", ["mode=", "mode=%20", "mode=sideways"])
def test_a_stock_feed_mode_that_is_empty_or_unknown_is_a_400_for_csv_and_json(admin_api, network, query):
    api = admin_api  # stock feeds are an administrator's or a location system's to send
    csv = api.post(f"/api/v1/stock-feeds?{query}", "location,sku,on_hand\n", content_type="text/csv")
    assert_problem(csv, 400, "mode")
    body = {"mode": "snapshot", "rows": []}
    assert_problem(api.post(f"/api/v1/stock-feeds?{query}", body, format="json"), 400, "mode")


@pytest.mark.parametrize(
    ("path", "param"), [("/api/v1/orders", "external_id"), ("/api/v1/orders", "status"), ("/api/v1/stock", "location")]
)
def test_an_empty_query_parameter_is_a_400_naming_it(api, network, path, param):
    query = {"sku": network.skus[0].code, param: ""}
    assert_problem(api.get(path, query), 400, param)


@pytest.mark.parametrize("page_size", ["0", "201", "ã", "null", "2.5"])
def test_the_sku_list_refuses_a_page_size_that_is_not_a_whole_number_from_1_to_200(api, network, page_size):
    assert_problem(api.get("/api/v1/skus", {"page_size": page_size}), 400, "page_size")
