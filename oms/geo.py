"""Offline coordinates for a postcode or town, from the places table shipped with the project."""

from __future__ import annotations

import csv
import re
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=1)
def _places() -> tuple[dict[str, tuple[float, float]], dict[str, tuple[float, float]]]:
    by_outward: dict[str, tuple[float, float]] = {}
    by_city: dict[str, tuple[float, float]] = {}
    with open(settings.OMS_PLACES_FILE, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            point = (float(row["lat"]), float(row["lon"]))
            country = row.get("country", "GB").upper()
            by_city.setdefault(f"{country}:{row['name'].strip().lower()}", point)
            for outward in re.split(r"[;\s]+", row.get("postcode", "").upper()):
                if outward:
                    by_outward.setdefault(f"{country}:{outward}", point)
    return by_outward, by_city


def coordinates_for(*, postcode: str = "", city: str = "", country: str = "GB") -> tuple[float, float] | None:
    """Coordinates of the postcode's district (e.g. "SW1A" of "SW1A 1AA"), else of the town; None if unknown."""
    by_outward, by_city = _places()
    country = (country or "GB").upper()
    compact = re.sub(r"\s+", "", postcode or "").upper()
    if compact:
        outward = compact[:-3] if len(compact) > 4 else compact
        for key in (outward, re.match(r"[A-Z]*", outward).group()):
            if key and f"{country}:{key}" in by_outward:
                return by_outward[f"{country}:{key}"]
    if city:
        return by_city.get(f"{country}:{city.strip().lower()}")
    return None
