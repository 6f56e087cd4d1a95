"""The committed docs/openapi.yaml is the schema the code generates (regenerate: see docs/api.md)."""

from pathlib import Path

import yaml
from django.core.management import call_command
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"


def test_committed_schema_matches_the_code(tmp_path):
    generated = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(generated), "--validate", "--fail-on-warn")
    assert generated.read_text() == COMMITTED.read_text(), (
        "docs/openapi.yaml is out of date: run `python manage.py spectacular --file docs/openapi.yaml`"
    )


def test_schema_and_docs_are_served_without_a_cdn(client):
    assert client.get("/api/schema/").status_code == 200
    page = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in page and "cdn" not in page.lower()
    assert "/static/drf_spectacular_sidecar/" in page


def _committed() -> dict:
    return yaml.safe_load(COMMITTED.read_text())


def test_committed_schema_is_valid_openapi():
    spec, _ = read_from_filename(str(COMMITTED))
    validate(spec)  # raises, naming the offending part, on any violation of the OpenAPI 3 meta-schema


def test_every_post_documents_the_idempotency_key_rules_and_the_replay_header():
    for path, operations in _committed()["paths"].items():
        if "post" not in operations:
            continue
        post = operations["post"]
        [header] = [p for p in post["parameters"] if p["in"] == "header" and p["name"] == "Idempotency-Key"]
        assert header["schema"]["maxLength"] == 255 and header["schema"]["pattern"], path
        assert "422" in header["description"] and "channel" in header["description"], path
        assert "422" in post["responses"], path
        success = [r for status, r in post["responses"].items() if status.startswith("2")]
        assert success and all("Idempotent-Replayed" in r.get("headers", {}) for r in success), path


def test_business_refusals_are_documented_per_operation():
    paths = _committed()["paths"]
    orders = paths["/api/v1/orders"]["post"]["responses"]
    assert "external_id" in orders["409"]["description"] and "shortfall" in orders["409"]["description"]
    assert "tenders" in orders["400"]["description"] and "ISO 4217" in orders["400"]["description"]
    decline = paths["/api/v1/fulfilments/{id}/decline"]["post"]["responses"]
    assert "allowed" in decline["409"]["description"]
    assert "409" not in paths["/api/v1/availability"]["post"]["responses"]  # it never refuses for state
    problem = _committed()["components"]["schemas"]["Problem"]
    assert {"order", "shortfall", "allowed", "current"} <= problem["properties"].keys()
