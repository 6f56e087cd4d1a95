"""Order-side models: channel API tokens (orders, customers and holds follow)."""

from __future__ import annotations

import hashlib
import secrets

from django.db import models

from inventory.models import Channel


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A channel's API credential; only its SHA-256 is stored, so a leaked database leaks no token."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=64, default="default")
    prefix = models.CharField(max_length=12, help_text="First characters, to tell tokens apart.")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["channel", "-created_at"]

    def __str__(self) -> str:
        return f"{self.channel_id} {self.prefix}…"

    @staticmethod
    def generate() -> str:
        return f"oms_{secrets.token_urlsafe(32)}"
