"""Till sales: a store's point of sale records what it sold (POST /api/v1/sales)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status

from fulfilment.sales import PAID_WORDS, SaleInput, sale_record
from oms.intake import OrderLineInput

from .auth import ChannelRequired, caller_actor, caller_channel
from .common import ApiView, lines_field
from .idempotency import idempotent
from .orders import CustomerInput, OrderDetailOutput, OrderLineInputSerializer, TenderInput, order_response


class SalePaymentInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=PAID_WORDS, default="captured", help_text="A till sale is paid.")
    tenders = serializers.ListField(child=TenderInput(), max_length=20, default=list)


class SaleCreateInput(serializers.Serializer):
    store = serializers.CharField(max_length=32, help_text="The code of the store the till belongs to.")
    external_id = serializers.CharField(max_length=64, help_text="The till's receipt number.")
    customer = CustomerInput(required=False)
    lines = lines_field(OrderLineInputSerializer())
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", max_length=3)
    payment = SalePaymentInput(required=False)


class SaleCreateView(ApiView):
    permission_classes = [ChannelRequired]

    @extend_schema(
        request=SaleCreateInput,
        responses={
            201: OrderDetailOutput,
            200: OpenApiResponse(OrderDetailOutput, "The same external_id: the original sale."),
        },
    )
    @idempotent
    def post(self, request):
        data = SaleCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        payment = v.get("payment", {})
        order, created = sale_record(
            data=SaleInput(
                channel=caller_channel(request),
                store=v["store"],
                external_id=v["external_id"],
                lines=[OrderLineInput(line["sku"], line["quantity"], line["unit_price"]) for line in v["lines"]],
                currency=v["currency"],
                customer=v.get("customer", {}),
                payment_status=payment.get("status", "captured"),
                tenders=[{**t, "amount": str(t["amount"])} for t in payment.get("tenders", [])],
            ),
            actor=caller_actor(request),
        )
        return order_response(request, order.pk, status.HTTP_201_CREATED if created else status.HTTP_200_OK)
