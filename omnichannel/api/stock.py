"""Stock per location, the catalogue (list and look-up), and stock feeds from store and warehouse systems."""

from __future__ import annotations

import csv

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.generics import ListAPIView
from rest_framework.parsers import BaseParser
from rest_framework.response import Response

from inventory.catalogue import sku_list
from inventory.credentials import stock_feed_write
from inventory.feeds import csv_records
from inventory.models import Location
from inventory.selectors import sku_resolve, stock_by_location
from inventory.stock_feed import STOCK_COLUMNS
from omnichannel.replicas import replica_reads

from .auth import MaySetStock, caller_actor, caller_channel, caller_credential
from .common import ApiView, PageCursor
from .idempotency import idempotent

MAX_FEED_ROWS = 100_000


class StockQuery(serializers.Serializer):
    sku = serializers.CharField(max_length=128, help_text="SKU code, barcode or the channel's alias.")
    location = serializers.SlugRelatedField(
        slug_field="code", queryset=Location.objects.filter(active=True), required=False
    )


class LocationStockOutput(serializers.Serializer):
    location = serializers.CharField()
    on_hand = serializers.IntegerField()
    reserved = serializers.IntegerField()
    available = serializers.IntegerField(help_text="ATP for the calling channel.")


class StockOutput(serializers.Serializer):
    sku = serializers.CharField()
    locations = LocationStockOutput(many=True)


class StockView(ApiView):
    @extend_schema(parameters=[StockQuery], responses={200: StockOutput})
    @replica_reads
    def get(self, request):
        query = StockQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        channel = caller_channel(request)
        sku = sku_resolve(code=query.validated_data["sku"], channel=channel)
        if sku is None:
            raise serializers.ValidationError({"sku": ["Unknown SKU."]})
        rows = stock_by_location(sku=sku, channel=channel, location=query.validated_data.get("location"))
        return Response(StockOutput({"sku": sku.code, "locations": rows}).data)


class CodeInput(serializers.Serializer):
    code = serializers.CharField(max_length=128)


class SkuOutput(serializers.Serializer):
    sku = serializers.CharField(source="code")
    name = serializers.CharField()
    category = serializers.CharField()
    attributes = serializers.JSONField()
    final_sale = serializers.BooleanField()
    active = serializers.BooleanField()
    barcodes = serializers.SerializerMethodField(help_text="GTIN/EAN codes the stores scan.")

    def get_barcodes(self, sku) -> list[str]:
        return [barcode.code for barcode in sku.barcodes.all()]


class CatalogueView(ApiView):
    @extend_schema(
        parameters=[OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH)], responses={200: SkuOutput}
    )
    @replica_reads
    def get(self, request, code: str):
        parsed = CodeInput(data={"code": code})
        if not parsed.is_valid():
            raise NotFound()
        sku = sku_resolve(code=parsed.validated_data["code"], channel=caller_channel(request))
        if sku is None:
            raise NotFound(f"No SKU, barcode or alias {code!r}.")
        return Response(SkuOutput(sku).data)


class SkuQuery(serializers.Serializer):
    q = serializers.CharField(max_length=64, required=False, help_text="Part of the code or name.")
    code = serializers.CharField(
        max_length=128, required=False, help_text="Exactly this SKU code, barcode or the channel's alias."
    )


class SkuCursor(PageCursor):
    ordering = ("code",)  # unique, so a page boundary never moves


class SkuListView(ListAPIView, ApiView):
    """The catalogue in code order, a page of at most 200 at a time (``next`` links the following page)."""

    serializer_class = SkuOutput
    pagination_class = SkuCursor

    def get_queryset(self):
        query = SkuQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return sku_list(**query.validated_data, channel=caller_channel(self.request))

    @extend_schema(parameters=[SkuQuery])
    @replica_reads
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CsvParser(BaseParser):
    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None) -> str:
        try:
            text = stream.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ParseError("The CSV file must be UTF-8.") from exc
        if "\x00" in text:
            raise ParseError("The CSV file contains NUL characters.")
        return text


class FeedRowInput(serializers.Serializer):
    location = serializers.CharField(max_length=32)
    sku = serializers.CharField(max_length=128, help_text="SKU code or barcode.")
    # The quantity bound is the feed's, checked per row: a row beyond it is reported, the rest apply.
    on_hand = serializers.IntegerField(min_value=0, required=False)
    delta = serializers.IntegerField(required=False)


class StockFeedInput(serializers.Serializer):
    mode = serializers.ChoiceField(choices=list(STOCK_COLUMNS), default="snapshot")
    rows = serializers.ListField(child=FeedRowInput(), max_length=MAX_FEED_ROWS)

    def validate(self, attrs):
        quantity = STOCK_COLUMNS[attrs["mode"]][2]
        missing = {f"rows[{i}].{quantity}": ["Required."] for i, row in enumerate(attrs["rows"]) if quantity not in row}
        if missing:
            raise serializers.ValidationError(missing)
        return attrs


class FeedQuery(serializers.Serializer):
    mode = serializers.ChoiceField(
        choices=list(STOCK_COLUMNS), default="snapshot", help_text="For a CSV file; a JSON body carries its own mode."
    )


class RejectionOutput(serializers.Serializer):
    row = serializers.IntegerField(help_text="CSV: the line number (the header is 1); JSON: 1-based position.")
    field = serializers.CharField()
    message = serializers.CharField()


class FeedResultOutput(serializers.Serializer):
    applied = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected_rows = serializers.IntegerField()
    rejected = RejectionOutput(many=True)


class StockFeedView(ApiView):
    """A snapshot sets on-hand, a delta changes it; rows that cannot apply are reported, the rest apply.

    Only a location's system (its integration credential, for its own locations) or an
    administrator may send one; a sales channel's token is refused.
    """

    parser_classes = [*ApiView.parser_classes, CsvParser]  # the API's JSON parser, and CSV
    permission_classes = [MaySetStock]

    @extend_schema(
        request={"application/json": StockFeedInput, "text/csv": OpenApiTypes.STR},
        parameters=[FeedQuery],
        responses={200: FeedResultOutput},
        description="JSON `{mode, rows: [{location, sku, on_hand|delta}]}`, or a CSV file as import_stock "
        "takes it (`location,sku,on_hand` or `location,sku,delta`) with `?mode=`. Needs a location system's "
        "credential (`oml_…` token; every row's location must be in its scope, else 403 naming them and "
        "nothing changes) or an administrator's session; a sales channel's token gets 403.",
    )
    @idempotent
    def post(self, request):
        query = FeedQuery(data=request.query_params)  # checked for JSON too: a wrong ?mode= is a mistake either way
        query.is_valid(raise_exception=True)
        if request.content_type.startswith("text/csv"):
            mode = query.validated_data["mode"]
            try:
                text = request.data if isinstance(request.data, str) else ""  # an empty body parses as {}
                rows = list(csv_records(text.splitlines(), columns=STOCK_COLUMNS[mode]))
            except csv.Error as exc:
                raise ParseError(f"Not a readable CSV file: {exc}.") from exc
            first_row = 2
        else:
            data = StockFeedInput(data=request.data)
            data.is_valid(raise_exception=True)
            mode = data.validated_data["mode"]
            quantity = STOCK_COLUMNS[mode][2]
            rows = [(r["location"], r["sku"], r[quantity]) for r in data.validated_data["rows"]]
            first_row = 1
        result = stock_feed_write(
            rows=rows,
            mode=mode,
            credential=caller_credential(request),
            actor=caller_actor(request),
            first_row=first_row,
        )
        return Response(
            FeedResultOutput(
                {
                    "applied": result.applied,
                    "unchanged": result.unchanged,
                    "rejected_rows": result.rejected_rows,
                    "rejected": result.rejected,
                }
            ).data
        )
