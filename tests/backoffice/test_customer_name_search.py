"""Agents find a customer by name, whatever the accents and case, on an index that stays fast
on a large customer table; staff type SKU codes in any case."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from oms.identity import customer_resolve, normalise_name
from oms.models import Customer
from oms.selectors import customers_search

from .conftest import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db):
    return {
        "zoe": customer_resolve(email="zoe@example.com", name="Zoë Ångström-Lee"),
        "muller": customer_resolve(email="hans@example.com", name="Hans MÜLLER"),
        "ann": customer_resolve(email="ann@example.com", name="Ann Lee"),
    }


@pytest.mark.parametrize(
    "typed, who",
    [
        ("zoe", ["zoe"]),
        ("ZOË", ["zoe"]),
        ("angstrom", ["zoe"]),
        ("muller", ["muller"]),
        ("müll", ["muller"]),
        ("hans mul", ["muller"]),
        ("lee", ["ann", "zoe"]),
        ("ann lee", ["ann"]),
    ],
)
def test_a_name_is_found_by_any_word_whatever_its_accents_and_case(people, typed, who):
    found = {c.pk for c in customers_search(query=typed)}
    assert found == {people[w].pk for w in who}, typed


def test_the_search_page_lists_customers_found_by_name(people, client, login):
    login(Role.AGENT)
    page = client.get(reverse("backoffice:home"), {"q": "muller"}).content.decode()
    assert "Hans MÜLLER" in page and "Zoë" not in page


def test_a_name_search_is_one_query_on_an_indexed_normalised_column(people):
    assert Customer.objects.get(pk=people["muller"].pk).name_search == normalise_name("Hans MÜLLER")
    with CaptureQueriesContext(connection) as queries:
        assert len(list(customers_search(query="muller"))) == 1
    assert len(queries) == 2  # the identifiers, then the customers by identifier or name
    with connection.cursor() as cursor:
        indexed = connection.introspection.get_constraints(cursor, Customer._meta.db_table)
    assert any(c["index"] and c["columns"] == ["name_search"] for c in indexed.values())


@pytest.mark.postgres
def test_on_postgresql_a_name_search_reads_the_trigram_index_not_the_whole_table(people):
    Customer.objects.bulk_create(
        Customer(email=f"c{n}@example.com", name=f"Person {n}", name_search=normalise_name(f"Person {n}"))
        for n in range(20_000)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Customer._meta.db_table}")
    queryset = customers_search(query="muller")
    plan = queryset.explain()
    assert "customer_name_search_trgm" in plan, plan
    assert [c.name for c in queryset] == ["Hans MÜLLER"]


@pytest.mark.parametrize(
    "name, typed",
    [("Søren Ørsted", "soren orsted"), ("Łukasz Wałęsa", "lukasz walesa"), ("Æsa Þórsdóttir", "aesa thorsdottir")],
)
def test_letters_without_an_accent_mark_are_found_as_typed_on_an_english_keyboard(db, name, typed):
    person = customer_resolve(email="someone@example.com", name=name)
    assert [c.pk for c in customers_search(query=typed)] == [person.pk], typed
    assert [c.pk for c in customers_search(query=name)] == [person.pk], name


def test_the_migration_refills_names_stored_before_the_rule(db):
    from importlib import import_module

    from django.apps import apps

    person = customer_resolve(email="soren@example.com", name="Søren Ørsted")
    Customer.objects.filter(pk=person.pk).update(name_search=" søren ørsted")  # as stored before
    import_module("oms.migrations.0015_name_search_plain_letters").refill(apps, None)
    assert Customer.objects.get(pk=person.pk).name_search == normalise_name("Søren Ørsted") == " soren orsted"
