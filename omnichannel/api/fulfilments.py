"""POST /api/v1/fulfilments/{id}/{action}: the work of one location on one order.

One small view per action, each with its own body, so the schema documents each.
"""

from __future__ import annotations

from collections import Counter

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from fulfilment import actions, pickups
from fulfilment.models import Fulfilment
from fulfilment.order_reads import fulfilment_get

from .auth import caller_actor, caller_channel
from .common import ApiView, SkuQuantitySerializer, lines_field
from .idempotency import idempotent
from .orders import FulfilmentOutput


class EmptyInput(serializers.Serializer):
    pass


class DeclineInput(serializers.Serializer):
    reason = serializers.ChoiceField(choices=Fulfilment.DeclineReason.choices)
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class PickLineInput(SkuQuantitySerializer):
    quantity = serializers.IntegerField(min_value=0, max_value=100_000, help_text="Less than ordered: a short pick.")


class PickInput(serializers.Serializer):
    lines = lines_field(PickLineInput(), help_text="Lines left out were picked in full.")


class ShipInput(serializers.Serializer):
    carrier = serializers.CharField(max_length=64)
    tracking = serializers.CharField(max_length=64)


class CollectInput(serializers.Serializer):
    pickup_code = serializers.CharField(max_length=6)


class FulfilmentActionView(ApiView):
    """Parse the action's body, run its service on a fulfilment the caller may see, answer with the fulfilment."""

    input_serializer = EmptyInput

    def act(self, fulfilment: Fulfilment, data: dict, actor) -> None:
        raise NotImplementedError

    @idempotent
    def post(self, request, pk: int):
        fulfilment = fulfilment_get(pk=pk, channel=caller_channel(request))
        data = self.input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        self.act(fulfilment, data.validated_data, caller_actor(request))
        fulfilment = fulfilment_get(pk=pk, channel=caller_channel(request))
        return Response(FulfilmentOutput(fulfilment).data)


def action_schema(input_serializer, summary: str):
    return extend_schema(
        request=input_serializer, responses={200: FulfilmentOutput}, summary=summary, description=summary
    )


@action_schema(EmptyInput, "Take the work on.")
class AcceptView(FulfilmentActionView):
    def act(self, fulfilment, data, actor):
        actions.fulfilment_accept(fulfilment=fulfilment, actor=actor)


@action_schema(DeclineInput, "Refuse the work; what is left is re-routed.")
class DeclineView(FulfilmentActionView):
    input_serializer = DeclineInput

    def act(self, fulfilment, data, actor):
        actions.fulfilment_decline(fulfilment=fulfilment, reason_code=data["reason"], note=data["note"], actor=actor)


@action_schema(PickInput, "Record what was picked; a short pick re-routes the rest.")
class PickView(FulfilmentActionView):
    input_serializer = PickInput

    def act(self, fulfilment, data, actor):
        picked = Counter()
        for line in data["lines"]:
            picked[line["sku"]] += line["quantity"]
        actions.fulfilment_pick(fulfilment=fulfilment, picked=dict(picked), actor=actor)


@action_schema(EmptyInput, "Everything picked is packed.")
class PackView(FulfilmentActionView):
    def act(self, fulfilment, data, actor):
        actions.fulfilment_pack(fulfilment=fulfilment, actor=actor)


@action_schema(ShipInput, "Hand the parcel to the carrier.")
class ShipView(FulfilmentActionView):
    input_serializer = ShipInput

    def act(self, fulfilment, data, actor):
        actions.fulfilment_ship(fulfilment=fulfilment, carrier=data["carrier"], tracking=data["tracking"], actor=actor)


@action_schema(EmptyInput, "On the collection shelf; a pickup code is issued.")
class ReadyView(FulfilmentActionView):
    def act(self, fulfilment, data, actor):
        pickups.fulfilment_ready(fulfilment=fulfilment, actor=actor)


@action_schema(CollectInput, "Hand over against the customer's pickup code.")
class CollectView(FulfilmentActionView):
    input_serializer = CollectInput

    def act(self, fulfilment, data, actor):
        pickups.fulfilment_collect(fulfilment=fulfilment, pickup_code=data["pickup_code"], actor=actor)


ACTIONS = {
    "accept": AcceptView,
    "decline": DeclineView,
    "pick": PickView,
    "pack": PackView,
    "ship": ShipView,
    "ready": ReadyView,
    "collect": CollectView,
}
