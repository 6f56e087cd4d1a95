"""POST /api/v1/availability: what a product page or checkout can promise."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from fulfilment.availability import availability_for
from omnichannel.replicas import replica_reads

from .auth import ChannelRequired, IsChannelOrStaff, caller_channel
from .common import ApiView, CountryField, SkuQuantitySerializer, latitude, lines_field, longitude
from .idempotency import idempotent


class DestinationSerializer(serializers.Serializer):
    lat = latitude(required=False)
    lon = longitude(required=False)
    postcode = serializers.CharField(max_length=16, required=False)
    country = CountryField(required=False, default="GB")

    def validate(self, attrs):
        has_point = "lat" in attrs and "lon" in attrs
        if not has_point and not attrs.get("postcode"):
            raise serializers.ValidationError("Send lat and lon, or a postcode (with country).")
        return attrs


class AvailabilityInput(serializers.Serializer):
    lines = lines_field(SkuQuantitySerializer())
    destination = DestinationSerializer()
    pickup_radius_km = serializers.FloatField(min_value=0.1, max_value=500, default=25)


class IncomingOutput(serializers.Serializer):
    on = serializers.DateField(help_text="The day the units are expected (today for supply already overdue).")
    quantity = serializers.IntegerField()


class LineOutput(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    available = serializers.IntegerField(help_text="The channel's network ATP.")
    incoming = IncomingOutput(
        many=True,
        help_text="Inbound supply the channel may still promise, soonest first: units already promised to "
        "backorders (first placed, first served) are not counted again.",
    )


class DeliveryOutput(serializers.Serializer):
    can_fulfil = serializers.BooleanField()
    shipments = serializers.IntegerField(help_text="Parcels routing would make; 0 when it cannot fulfil.")
    summary = serializers.CharField()


class PickupStoreOutput(serializers.Serializer):
    store = serializers.CharField()
    name = serializers.CharField()
    distance_km = serializers.FloatField()
    all_available = serializers.BooleanField(help_text="Every line is in stock there now.")
    ready_by = serializers.DateTimeField(allow_null=True, help_text="Null when the lines cannot be brought there.")
    opens_at = serializers.DateTimeField(
        allow_null=True, help_text="When the store opens next, if it is closed now; null while it is open."
    )


class AvailabilityOutput(serializers.Serializer):
    lines = LineOutput(many=True)
    delivery = DeliveryOutput()
    pickup_stores = PickupStoreOutput(many=True)


_OUTPUT = AvailabilityOutput()  # stateless: one instance saves copying its declared fields per request


class AvailabilityView(ApiView):
    permission_classes = [IsChannelOrStaff, ChannelRequired]

    @extend_schema(request=AvailabilityInput, responses={200: AvailabilityOutput}, operation_id="availability")
    @idempotent
    @replica_reads
    def post(self, request):
        data = AvailabilityInput(data=request.data)
        data.is_valid(raise_exception=True)
        destination = data.validated_data["destination"]
        availability = availability_for(
            channel=caller_channel(request),
            lines=[(line["sku"], line["quantity"]) for line in data.validated_data["lines"]],
            lat=destination.get("lat"),
            lon=destination.get("lon"),
            postcode=destination.get("postcode", ""),
            country=destination["country"],
            pickup_radius_km=data.validated_data["pickup_radius_km"],
        )
        return Response(_OUTPUT.to_representation(availability))
