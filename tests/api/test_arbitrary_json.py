"""Any JSON (or near-JSON) a caller can send to a POST endpoint is answered below 500."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.test_hostile_input import POST_PATHS, ids, post_raw  # noqa: F401 - ids is a fixture

FIELDS = [
    *("external_id", "lines", "sku", "quantity", "unit_price", "currency", "fulfilment", "method", "store"),
    *("address", "line1", "city", "postcode", "country", "lat", "lon", "payment", "status", "tenders", "amount"),
    *("reason", "note", "carrier", "tracking", "pickup_code", "order", "location", "condition", "mode", "rows"),
    *("on_hand", "delta", "destination", "pickup_radius_km", "customer", "email", "phone"),
]
characters = st.characters() | st.characters(categories=["Cs"])  # lone surrogates included
leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=300, max_value=4000).map(lambda digits: 10**digits)  # huge, still dumpable
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([1e308, -1e308, 5e-324, 0.1])
    | st.text(characters, max_size=40)
    | st.sampled_from(["delivery", "pickup", "authorised", "snapshot", "delta", "damaged", "GBP", "GB", "ST-SOHO"])
)
values = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(characters, max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)
bodies = st.dictionaries(st.sampled_from(FIELDS), values, max_size=6).map(json.dumps) | values.map(json.dumps)
hostile_text = st.one_of(
    st.integers(min_value=30, max_value=3000).map(lambda n: '{"lines": ' + "[" * n + "]" * n + "}"),
    st.integers(min_value=30, max_value=3000).map(lambda n: '{"a":' * n + "1" + "}" * n),
    st.integers(min_value=4300, max_value=6000).map(lambda digits: '{"quantity": ' + "9" * digits + "}"),
    st.sampled_from(['{"amount": NaN}', '{"lat": Infinity}', "[", "", "\ufeff{}", '{"a": "\\ud800"}', "1e999"]),
)


@pytest.mark.parametrize("path", POST_PATHS)
@settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=bodies | hostile_text)
def test_any_body_is_answered_below_500(api, ids, path, text):  # noqa: F811
    response = post_raw(api, path.format(**ids), text)
    assert response.status_code < 500, (text[:300], response.content[:300])
