from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from inventory.models import Channel
from oms.services import channel_create


class Command(BaseCommand):
    help = "Create a sales channel and print its API token on the last line."

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("--name", required=True)
        parser.add_argument("--kind", required=True, choices=Channel.Kind.values)

    def handle(self, *args, code, name, kind, **options):
        try:
            channel, token = channel_create(code=code, name=name, kind=kind)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        except ValidationError as exc:
            raise CommandError("; ".join(f"{f}: {' '.join(m)}" for f, m in exc.message_dict.items())) from exc
        self.stdout.write(f"Created channel {channel.code} ({channel.kind}). API token (shown once):")
        self.stdout.write(token)
