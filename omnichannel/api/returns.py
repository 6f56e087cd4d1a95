"""Returns: request, read, receive at a location."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from fulfilment.order_reads import order_get
from inventory.models import Location
from returns.models import Return, ReturnLine
from returns.receiving import ReceivedLine, return_receive
from returns.requests import ReturnLineInput, return_request
from returns.selectors import return_get

from .auth import caller_actor, caller_channel
from .common import ApiView, SkuQuantitySerializer, lines_field
from .idempotency import idempotent


class ReturnLineInputSerializer(SkuQuantitySerializer):
    reason = serializers.CharField(max_length=32, required=False, default="", allow_blank=True)


class ReturnCreateInput(serializers.Serializer):
    order = serializers.IntegerField(min_value=1, max_value=2**53, help_text="The order id.")
    lines = lines_field(ReturnLineInputSerializer())


class ReceivedLineInput(SkuQuantitySerializer):
    condition = serializers.ChoiceField(choices=ReturnLine.Condition.choices, default=ReturnLine.Condition.RESELLABLE)


class ReturnReceiveInput(serializers.Serializer):
    location = serializers.SlugRelatedField(
        slug_field="code", queryset=Location.objects.filter(active=True), help_text="Where the goods arrived."
    )
    lines = lines_field(ReceivedLineInput())


class ReturnLineOutput(serializers.Serializer):
    sku = serializers.CharField(source="sku.code")
    quantity = serializers.IntegerField()
    reason = serializers.CharField(source="reason.code", allow_null=True, default=None)
    resellable_quantity = serializers.IntegerField()
    damaged_quantity = serializers.IntegerField()


class ReturnOutput(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    order = serializers.IntegerField(source="order_id")
    status = serializers.ChoiceField(choices=Return.Status.choices)
    received_location = serializers.CharField(source="received_location.code", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    lines = ReturnLineOutput(many=True)


def return_response(request, pk: int, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(ReturnOutput(return_get(pk=pk, channel=caller_channel(request))).data, status=status_code)


class ReturnCreateView(ApiView):
    @extend_schema(request=ReturnCreateInput, responses={201: ReturnOutput})
    @idempotent
    def post(self, request):
        data = ReturnCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        order = order_get(pk=data.validated_data["order"], channel=caller_channel(request))
        ret = return_request(
            order=order,
            lines=[ReturnLineInput(ln["sku"], ln["quantity"], ln["reason"]) for ln in data.validated_data["lines"]],
            channel=caller_channel(request),
            actor=caller_actor(request),
        )
        return return_response(request, ret.pk, status.HTTP_201_CREATED)


class ReturnDetailView(ApiView):
    @extend_schema(responses={200: ReturnOutput})
    def get(self, request, pk: int):
        return return_response(request, pk)


class ReturnReceiveView(ApiView):
    @extend_schema(request=ReturnReceiveInput, responses={200: ReturnOutput})
    @idempotent
    def post(self, request, pk: int):
        ret = return_get(pk=pk, channel=caller_channel(request))
        data = ReturnReceiveInput(data=request.data)
        data.is_valid(raise_exception=True)
        return_receive(
            ret=ret,
            location=data.validated_data["location"],
            lines=[ReceivedLine(ln["sku"], ln["quantity"], ln["condition"]) for ln in data.validated_data["lines"]],
            actor=caller_actor(request),
        )
        return return_response(request, pk)
