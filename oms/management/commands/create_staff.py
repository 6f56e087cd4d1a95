from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from oms.models import StaffProfile
from oms.services import staff_create


class Command(BaseCommand):
    help = "Create a person with a role (store_staff, agent, supervisor, admin); store staff name their stores."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument("--role", required=True, choices=StaffProfile.Role.values)
        parser.add_argument("--store", nargs="+", default=[], metavar="CODE", help="Store codes (store_staff only).")

    def handle(self, *args, username, password, role, store, **options):
        try:
            profile = staff_create(username=username, password=password, role=role, store_codes=store)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        stores = ", ".join(profile.stores.values_list("code", flat=True)) or "all channels' orders"
        self.stdout.write(f"Created {profile.get_role_display().lower()} {username} ({stores}).")
