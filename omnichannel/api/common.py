"""What every endpoint shares: the base view, the id path converter, a SKU-and-quantity line."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.views import APIView

MAX_QUANTITY = 100_000
MAX_LINES = 100


class IdConverter:
    """Database ids in paths: digits that fit a 64-bit key; anything longer is simply not found."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)


class ApiView(APIView):
    def initial(self, request, *args, **kwargs):
        # Reading the body through Django applies DATA_UPLOAD_MAX_MEMORY_SIZE (→ 413) before parsing.
        if request.method == "POST":
            request.body  # noqa: B018
        super().initial(request, *args, **kwargs)


class SkuQuantitySerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=128, help_text="SKU code, barcode or the channel's alias.")
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


def lines_field(child: serializers.Serializer, **kwargs) -> serializers.ListField:
    return serializers.ListField(child=child, min_length=1, max_length=MAX_LINES, **kwargs)
