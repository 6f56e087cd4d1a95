"""Inbound supply: announce what a supplier will deliver to a location, read it, and receive it."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from inventory.inbound import REFERENCE_MAX, inbound_create, inbound_receive
from inventory.inbound_selectors import inbound_get
from inventory.models import InboundSupply
from inventory.quantities import COLUMN_MAX

from .auth import MaySetStock, caller_actor, caller_credential
from .common import ApiView, lines_field
from .idempotency import idempotent

SCOPE = (
    "Needs a location system's credential (`oml_…` token) whose scope holds the document's location, "
    "else 403 naming it, or an administrator's session; a sales channel's token gets 403."
)


class InboundLineInput(serializers.Serializer):
    sku = serializers.CharField(max_length=128, help_text="SKU code or barcode.")
    # The bound on units is the services' (OMS_MAX_STOCK_QUANTITY), answered per line.
    quantity = serializers.IntegerField(min_value=1, max_value=COLUMN_MAX)


class InboundCreateInput(serializers.Serializer):
    reference = serializers.CharField(
        max_length=REFERENCE_MAX, help_text="The supplier's purchase order or shipping notice number."
    )
    location = serializers.CharField(max_length=32, help_text="Code of the location the goods go to.")
    expected_on = serializers.DateField(help_text="The day the goods are expected; today or later.")
    lines = lines_field(InboundLineInput())


class InboundReceiveInput(serializers.Serializer):
    lines = lines_field(InboundLineInput())


class InboundLineOutput(serializers.Serializer):
    sku = serializers.CharField(source="sku.code")
    quantity = serializers.IntegerField(help_text="Units announced.")
    received = serializers.IntegerField(help_text="Units booked in so far; may exceed quantity.")


class InboundOutput(serializers.Serializer):
    reference = serializers.CharField()
    location = serializers.CharField(source="location.code")
    expected_on = serializers.DateField()
    status = serializers.ChoiceField(
        choices=InboundSupply.Status.choices,
        help_text="received: every line arrived in full (late extra units are still taken); "
        "closed: nothing more will come.",
    )
    lines = InboundLineOutput(many=True, source="lines.all")


class OverReceivedOutput(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField(help_text="Units of this receipt beyond what was announced.")


class InboundReceiptOutput(InboundOutput):
    over_received = OverReceivedOutput(many=True)


class InboundCreateView(ApiView):
    permission_classes = [MaySetStock]

    @extend_schema(
        request=InboundCreateInput,
        responses={201: InboundOutput},
        description="Announce a delivery: SKUs by code or barcode, each once. A reference already used is 409. "
        + SCOPE,
    )
    @idempotent
    def post(self, request):
        data = InboundCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        supply = inbound_create(
            reference=values["reference"],
            location=values["location"],
            expected_on=values["expected_on"],
            lines=[(line["sku"], line["quantity"]) for line in values["lines"]],
            actor=caller_actor(request),
            credential=caller_credential(request),
        )
        return Response(InboundOutput(inbound_get(reference=supply.reference)).data, status=status.HTTP_201_CREATED)


class InboundDetailView(ApiView):
    permission_classes = [MaySetStock]

    @extend_schema(responses={200: InboundOutput}, description=SCOPE)
    def get(self, request, reference: str):
        return Response(InboundOutput(inbound_get(reference=reference, credential=caller_credential(request))).data)


class InboundReceiveView(ApiView):
    permission_classes = [MaySetStock]

    @extend_schema(
        request=InboundReceiveInput,
        responses={200: InboundReceiptOutput},
        description="Book units that arrived into the location's on hand (a ledger receipt `inbound:<reference>`). "
        "Units beyond those announced are taken and listed in `over_received`; a SKU not on the document is 400, "
        f"a closed document 409. {SCOPE}",
    )
    @idempotent
    def post(self, request, reference: str):
        # Out of scope is 403 before the body is read, as for the document itself.
        supply = inbound_get(reference=reference, credential=caller_credential(request))
        data = InboundReceiveInput(data=request.data)
        data.is_valid(raise_exception=True)
        over = inbound_receive(
            supply=supply,
            lines=[(line["sku"], line["quantity"]) for line in data.validated_data["lines"]],
            actor=caller_actor(request),
            credential=caller_credential(request),
        )
        receipt = inbound_get(reference=reference)
        receipt.over_received = [{"sku": code, "quantity": units} for code, units in sorted(over.items())]
        return Response(InboundReceiptOutput(receipt).data)
