"""Offline coordinates for a postcode, from the places table shipped with the project."""

from __future__ import annotations

import csv
import re
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=1)
def _places() -> dict[str, tuple[float, float]]:
    """Country:key → point, for every postcode district listed and, through its first district, every area."""
    by_key: dict[str, tuple[float, float]] = {}
    areas: dict[str, tuple[float, float]] = {}
    with open(settings.OMS_PLACES_FILE, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            point = (float(row["lat"]), float(row["lon"]))
            country = row.get("country", "GB").upper()
            for district in re.split(r"[;\s]+", row.get("postcode", "").upper()):
                if district:
                    by_key.setdefault(f"{country}:{district}", point)
                    areas.setdefault(f"{country}:{_area(district)}", point)
    return {**areas, **by_key}


def _area(district: str) -> str:
    return re.match(r"[A-Z]*", district).group()


def _district(compact: str, country: str) -> str:
    """The part of a postcode that names a place: the outward code ("SW1A" of "SW1A1AA"), an Eircode's routing key."""
    if country == "IE":
        return compact[:3]
    return compact[:-3] if len(compact) > 4 else compact


def coordinates_for(*, postcode: str, country: str = "GB") -> tuple[float, float] | None:
    """Coordinates of the postcode's district, else of its area ("LS" of "LS6 3AB"); None if neither is known.

    The town is deliberately not consulted: a postcode no area has is a typing mistake,
    and placing it at the town named beside it would route the order on a guess.
    """
    places = _places()
    country = (country or "GB").upper()
    compact = re.sub(r"\s+", "", postcode or "").upper()
    if not compact:
        return None
    district = _district(compact, country)
    for key in (district, _area(district)):
        if key and f"{country}:{key}" in places:
            return places[f"{country}:{key}"]
    return None
