from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from inventory.credentials import location_credential_issue


class Command(BaseCommand):
    help = (
        "Create the integration credential of a location's own system (tills, WMS) for stock feeds, "
        "scoped to the locations named, and print its token once on the last line."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="The system it belongs to, e.g. soho-tills.")
        parser.add_argument(
            "--location", action="append", required=True, dest="locations", help="A location code; repeat for more."
        )

    def handle(self, *args, name, locations, **options):
        try:
            credential, token = location_credential_issue(name=name, location_codes=locations)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        codes = ", ".join(credential.locations.order_by("code").values_list("code", flat=True))
        self.stdout.write(f"Created credential {credential.name} for {codes}. Token (shown once):")
        self.stdout.write(token)
