"""Orders: place, read, list, cancel, change the delivery address."""

from __future__ import annotations

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response

from fulfilment.models import Fulfilment
from fulfilment.order_reads import order_detail, order_get, order_list
from oms.intake import WHEN_SHORT, OrderInput, OrderLineInput
from oms.models import Order
from oms.selectors import order_line_quantities
from oms.services import order_cancel, order_change_address, order_place

from .auth import ChannelRequired, IsChannelOrStaff, caller_actor, caller_channel
from .common import (
    ApiView,
    CountryField,
    CurrencyField,
    PageCursor,
    SkuQuantitySerializer,
    latitude,
    lines_field,
    longitude,
)
from .idempotency import idempotent

# --- input ---------------------------------------------------------------------------


class CustomerInput(serializers.Serializer):
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    name = serializers.CharField(max_length=255, required=False, allow_blank=True)
    member_number = serializers.CharField(max_length=32, required=False, allow_blank=True)


class AddressInput(serializers.Serializer):
    line1 = serializers.CharField(max_length=255)
    line2 = serializers.CharField(max_length=255, required=False, allow_blank=True)
    city = serializers.CharField(max_length=128)
    region = serializers.CharField(max_length=128, required=False, allow_blank=True)
    postcode = serializers.CharField(max_length=16)
    country = CountryField()
    lat = latitude(required=False)
    lon = longitude(required=False)


class FulfilmentChoiceInput(serializers.Serializer):
    # A till sale (in_store) arrives through POST /sales, never as an order to route.
    method = serializers.ChoiceField(choices=[Order.Method.DELIVERY, Order.Method.PICKUP])
    address = AddressInput(required=False)
    store = serializers.CharField(max_length=32, required=False, help_text="Pickup store code.")

    def validate(self, attrs):
        needed = "address" if attrs["method"] == Order.Method.DELIVERY else "store"
        if needed not in attrs:
            raise serializers.ValidationError({needed: ["Required for this method."]})
        return attrs


class OrderLineInputSerializer(SkuQuantitySerializer):
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)


class TenderInput(serializers.Serializer):
    type = serializers.CharField(max_length=32)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    reference = serializers.CharField(max_length=128, required=False, allow_blank=True)


class PaymentInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=Order.PaymentStatus.choices, default=Order.PaymentStatus.AUTHORISED)
    tenders = serializers.ListField(child=TenderInput(), max_length=20, default=list)


class OrderCreateInput(serializers.Serializer):
    external_id = serializers.CharField(max_length=64)
    customer = CustomerInput(required=False)
    lines = lines_field(OrderLineInputSerializer())
    currency = CurrencyField()
    fulfilment = FulfilmentChoiceInput()
    payment = PaymentInput(required=False)
    when_short = serializers.ChoiceField(
        choices=WHEN_SHORT,
        required=False,
        help_text="When stock is short: reject (409 with the shortfall) or backorder (reserve what can be had now, "
        "the rest waits for supply on its lines). Left out: the channel's routing policy decides, reject by default.",
    )


class OrderCancelInput(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, default="cancelled by the channel")
    lines = lines_field(SkuQuantitySerializer(), required=False, help_text="Leave out to cancel the whole order.")


# --- output --------------------------------------------------------------------------


class OrderLineOutput(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField(source="sku.code")
    quantity = serializers.IntegerField()
    cancelled_quantity = serializers.IntegerField()
    allocated = serializers.IntegerField(help_text="Units reserved for a fulfilment or already dispatched.")
    backordered = serializers.IntegerField(help_text="Units waiting for supply.")
    promised_on = serializers.DateField(
        allow_null=True, help_text="When known inbound supply covers every backordered unit; null: not known."
    )
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)


class FulfilmentLineOutput(serializers.Serializer):
    sku = serializers.CharField(source="sku.code")
    quantity = serializers.IntegerField()


class FulfilmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    order = serializers.IntegerField(source="order_id")
    location = serializers.CharField(source="location.code")
    method = serializers.ChoiceField(choices=Fulfilment.Method.choices)
    status = serializers.ChoiceField(choices=Fulfilment.Status.choices)
    lines = FulfilmentLineOutput(many=True)
    ready_by = serializers.DateTimeField(allow_null=True)
    pickup_code = serializers.CharField(help_text="Collection only, once ready; the customer shows it.")
    carrier = serializers.CharField()
    tracking = serializers.CharField()


class OrderOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    external_id = serializers.CharField()
    channel = serializers.CharField(source="channel.code")
    status = serializers.ChoiceField(choices=Order.Status.choices)
    method = serializers.ChoiceField(choices=Order.Method.choices)
    currency = serializers.CharField()
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    payment_status = serializers.ChoiceField(choices=Order.PaymentStatus.choices)
    created_at = serializers.DateTimeField()
    lines = OrderLineOutput(many=True)
    fulfilments = FulfilmentOutput(many=True)


class TimelineEntryOutput(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    subject = serializers.CharField()
    text = serializers.CharField()
    actor = serializers.CharField(allow_null=True)
    from_state = serializers.CharField()
    to_state = serializers.CharField()


# Output serializers hold no per-call state, so one instance each serves every response: building
# a serializer deep-copies its declared fields, nested ones included, which costs more than using them.
_TIMELINE = TimelineEntryOutput(many=True)


class OrderDetailOutput(OrderOutput):
    routing = serializers.JSONField(help_text="The last routing plan: candidates considered and why they won or lost.")
    timeline = serializers.SerializerMethodField(help_text="Transitions, notes and events, oldest first.")

    @extend_schema_field(TimelineEntryOutput(many=True))
    def get_timeline(self, order) -> list[dict]:
        return _TIMELINE.to_representation(order.timeline)


_DETAIL = OrderDetailOutput()


def order_response(request, order_id: int, status_code: int = status.HTTP_200_OK) -> Response:
    """Answer with the order as the caller sees it now (fresh, with fulfilments and timeline)."""
    order = order_detail(pk=order_id, channel=caller_channel(request))
    return Response(_DETAIL.to_representation(order), status=status_code)


# --- views ---------------------------------------------------------------------------


class OrderFilter(django_filters.FilterSet):
    external_id = django_filters.CharFilter(max_length=64)
    status = django_filters.ChoiceFilter(choices=Order.Status.choices)

    class Meta:
        model = Order
        fields = ["external_id", "status"]


class OrderCursor(PageCursor):
    ordering = ("-created_at", "-id")


class OrderListCreateView(ListAPIView, ApiView):
    serializer_class = OrderOutput
    filter_backends = [DjangoFilterBackend]
    filterset_class = OrderFilter
    pagination_class = OrderCursor

    def get_queryset(self):
        return order_list(channel=caller_channel(self.request))

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsChannelOrStaff(), ChannelRequired()]
        return super().get_permissions()

    @extend_schema(
        request=OrderCreateInput,
        examples=[
            OpenApiExample(
                "Delivery",
                request_only=True,
                value={
                    "external_id": "WEB-10001",
                    "customer": {"email": "a@example.com", "phone": "+44 7700 900000", "name": "A. Person"},
                    "lines": [{"sku": "SKU-1", "quantity": 2, "unit_price": "19.99"}],
                    "currency": "GBP",
                    "fulfilment": {
                        "method": "delivery",
                        "address": {
                            "line1": "1 Strand",
                            "city": "London",
                            "postcode": "WC2N 5DU",
                            "country": "GB",
                            "lat": 51.508,
                            "lon": -0.128,
                        },
                    },
                    "payment": {"status": "authorised", "tenders": [{"type": "card", "amount": "39.98"}]},
                },
            )
        ],
        responses={
            201: OrderDetailOutput,
            200: OpenApiResponse(OrderDetailOutput, "The same external_id with the same body: the original order."),
        },
    )
    @idempotent
    def post(self, request):
        data = OrderCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        payment = v.get("payment", {})
        address = dict(v["fulfilment"].get("address", {}))
        order, created = order_place(
            data=OrderInput(
                channel=caller_channel(request),
                external_id=v["external_id"],
                lines=[OrderLineInput(line["sku"], line["quantity"], line["unit_price"]) for line in v["lines"]],
                currency=v["currency"],
                method=v["fulfilment"]["method"],
                address=address,
                pickup_store=v["fulfilment"].get("store"),
                customer=v.get("customer", {}),
                payment_status=payment.get("status", Order.PaymentStatus.AUTHORISED),
                tenders=[{**t, "amount": str(t["amount"])} for t in payment.get("tenders", [])],
                when_short=v.get("when_short", ""),
            ),
            actor=caller_actor(request),
        )
        return order_response(request, order.pk, status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class OrderDetailView(ApiView):
    @extend_schema(responses={200: OrderDetailOutput})
    def get(self, request, pk: int):
        return order_response(request, pk)


class OrderCancelView(ApiView):
    @extend_schema(request=OrderCancelInput, responses={200: OrderDetailOutput})
    @idempotent
    def post(self, request, pk: int):
        order = order_get(pk=pk, channel=caller_channel(request))
        data = OrderCancelInput(data=request.data)
        data.is_valid(raise_exception=True)
        lines = data.validated_data.get("lines")
        order_cancel(
            order=order,
            reason=data.validated_data["reason"],
            actor=caller_actor(request),
            lines=None
            if lines is None
            else order_line_quantities(order=order, lines=[(line["sku"], line["quantity"]) for line in lines]),
        )
        return order_response(request, pk)


class OrderAddressView(ApiView):
    @extend_schema(request=AddressInput, responses={200: OrderDetailOutput})
    @idempotent
    def post(self, request, pk: int):
        order = order_get(pk=pk, channel=caller_channel(request))
        data = AddressInput(data=request.data)
        data.is_valid(raise_exception=True)
        order_change_address(order=order, address=dict(data.validated_data), actor=caller_actor(request))
        return order_response(request, pk)
