"""What the browser tests share beyond fixtures: keeping screenshots for the docs."""

from __future__ import annotations

import os
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def document(page, name: str) -> None:
    """Keep a screenshot of the page for the docs when asked to (``DOCS_SCREENSHOTS=1``)."""
    if os.environ.get("DOCS_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=DOCS / name, full_page=True)
