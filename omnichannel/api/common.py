"""What every endpoint shares: the base view, the id path converter, a SKU-and-quantity line,
and the fields for ISO codes and coordinates."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.pagination import CursorPagination
from rest_framework.views import APIView

from oms.intake import is_country, is_currency

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
        blank = sorted({key for key, values in request.query_params.lists() if any(not v.strip() for v in values)})
        if blank:  # filters and pagination would quietly ignore them, answering a question not asked
            raise serializers.ValidationError({key: ["Must not be empty: leave the parameter out."] for key in blank})


class SkuQuantitySerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=128, help_text="SKU code, barcode or the channel's alias.")
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


def lines_field(child: serializers.Serializer, **kwargs) -> serializers.ListField:
    return serializers.ListField(child=child, min_length=1, max_length=MAX_LINES, **kwargs)


@extend_schema_field(
    {"type": "string", "pattern": "^[A-Za-z]{2}$", "description": "ISO 3166-1 alpha-2 country code, e.g. GB."}
)
class CountryField(serializers.CharField):
    """An ISO 3166-1 alpha-2 country code, taken in any case and kept in upper case."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "ISO 3166-1 alpha-2 country code, e.g. GB.")
        super().__init__(min_length=2, max_length=2, trim_whitespace=False, **kwargs)

    def to_internal_value(self, data):
        code = super().to_internal_value(data)
        if not is_country(code):
            raise serializers.ValidationError("Not an ISO 3166-1 alpha-2 country code.")
        return code.upper()


@extend_schema_field({"type": "string", "pattern": "^[A-Za-z]{3}$", "description": "ISO 4217 currency code, e.g. GBP."})
class CurrencyField(serializers.CharField):
    """An ISO 4217 currency code, taken in any case and kept in upper case."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "ISO 4217 currency code, e.g. GBP.")
        super().__init__(min_length=3, max_length=3, trim_whitespace=False, **kwargs)

    def to_internal_value(self, data):
        code = super().to_internal_value(data)
        if not is_currency(code):
            raise serializers.ValidationError("Not an ISO 4217 currency code.")
        return code.upper()


class CoordinateField(serializers.FloatField):
    """A latitude or longitude: a number (true and false are not), within the given range."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


def latitude(**kwargs) -> CoordinateField:
    return CoordinateField(min_value=-90, max_value=90, **kwargs)


def longitude(**kwargs) -> CoordinateField:
    return CoordinateField(min_value=-180, max_value=180, **kwargs)


class PageCursor(CursorPagination):
    """Cursor pages of every list endpoint: 50 by default, ``?page_size=`` from 1 to 200, anything else a 400."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request) -> int:
        """Use ``?page_size=`` when it is a whole number from 1 to 200; anything else is a 400, not ignored."""
        sent = request.query_params.get(self.page_size_query_param)
        if sent is None:
            return self.page_size
        if not (sent.isascii() and sent.isdigit() and 1 <= int(sent) <= self.max_page_size):
            raise serializers.ValidationError({"page_size": [f"A whole number from 1 to {self.max_page_size}."]})
        return int(sent)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size, default=self.page_size)
        return parameters
