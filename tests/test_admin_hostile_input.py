"""Hostile input to any admin page gets a form error or a message, never a server error."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model

from tests.factories import ChannelFactory, LocationFactory, SkuFactory

pytestmark = pytest.mark.django_db

HOSTILE = ["test", " ", "-1", "1e308", "NaN", "99999999999999999999", "<script>x</script>", "x" * 400]


@pytest.fixture
def superuser_client(client):
    SkuFactory()
    LocationFactory()
    ChannelFactory()
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))
    return client


def _admin_urls():
    for model, model_admin in admin.site._registry.items():
        yield f"/admin/{model._meta.app_label}/{model._meta.model_name}/", model, model_admin


@pytest.mark.parametrize("value", HOSTILE)
def test_a_changelist_action_on_ids_that_are_not_ids_is_refused_without_an_error(superuser_client, value):
    for changelist, model, _ in _admin_urls():
        count = model.objects.count()
        response = superuser_client.post(changelist, {"action": "delete_selected", "_selected_action": [value]})
        assert response.status_code < 500, changelist
        assert model.objects.count() == count, changelist


@pytest.mark.parametrize("value", HOSTILE)
def test_every_add_form_answers_hostile_values_with_form_errors(superuser_client, value):
    for changelist, _model, model_admin in _admin_urls():
        request = superuser_client.get(changelist).wsgi_request
        if not model_admin.has_add_permission(request):
            continue
        form_class = model_admin.get_form(request)
        data = {name: value for name in form_class.base_fields}
        response = superuser_client.post(f"{changelist}add/", data)
        assert response.status_code < 500, f"{changelist}add/ with {value!r}"


def test_an_emptied_json_box_saves_the_column_default(superuser_client):
    from fulfilment.models import RoutingPolicyVersion

    channel = ChannelFactory()
    response = superuser_client.post(
        "/admin/fulfilment/routingpolicyversion/add/",
        {"channel": channel.pk, "version": 7, "data": "", "active": "on", "note": ""},
    )
    assert response.status_code == 302
    assert RoutingPolicyVersion.objects.get(channel=channel, version=7).data == {}
