from datetime import UTC

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.errors import DomainError
from inventory.models import Channel
from oms.tokens import DEFAULT_OLD_VALID_FOR, api_token_rotate, duration_parse, location_credential_rotate


class Command(BaseCommand):
    help = (
        "Issue a new API token for a channel (or, with --credential, a location system) and print it once on "
        "the last line. The old token keeps working until --until or for --old-valid-for (default 24h), "
        "then is refused with 401."
    )

    def add_arguments(self, parser):
        parser.add_argument("channel", nargs="?", help="The channel's code.")
        parser.add_argument("--credential", metavar="NAME", help="Rotate this location credential instead.")
        parser.add_argument("--name", default="default", help="Which of the channel's tokens (default: default).")
        when = parser.add_mutually_exclusive_group()
        when.add_argument("--old-valid-for", metavar="DURATION", help="e.g. 90m, 24h, 2d; 0 ends it at once.")
        when.add_argument("--until", metavar="ISO-TIME", help="e.g. 2026-12-24T18:00:00+00:00 (UTC if no offset).")

    def _deadline(self, old_valid_for: str | None, until: str | None):
        if until is not None:
            moment = parse_datetime(until.strip())
            if moment is None:
                raise CommandError(f"--until {until!r} is not an ISO date and time, e.g. 2026-12-24T18:00:00+00:00.")
            return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)
        try:
            period = DEFAULT_OLD_VALID_FOR if old_valid_for is None else duration_parse(old_valid_for)
        except DomainError as exc:
            raise CommandError(f"--old-valid-for: {exc.message} Use e.g. 90m, 24h or 2d.") from exc
        return timezone.now() + period

    def handle(self, *args, channel, credential, name, old_valid_for, until, **options):
        if bool(channel) == bool(credential):
            raise CommandError("Name a channel code, or a location credential with --credential (not both).")
        deadline = self._deadline(old_valid_for, until)
        try:
            if credential:
                _, token = location_credential_rotate(name=credential, old_valid_until=deadline)
                what = f"location credential {credential}"
            else:
                found = Channel.objects.filter(code=channel).first()
                if found is None:
                    raise CommandError(f"Unknown channel {channel}.")
                token = api_token_rotate(channel=found, old_valid_until=deadline, name=name)
                what = f"channel {channel} (token {name})"
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Rotated {what}: the old token is refused from {deadline.isoformat()}.")
        self.stdout.write("New token (shown once):")
        self.stdout.write(token)
