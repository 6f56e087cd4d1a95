import json

from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from omnichannel.privacy.export import customer_access_record, customer_export, customer_find
from oms.models import CustomerAccess


class Command(BaseCommand):
    help = "Print one JSON document with everything held about a person (e-mail, phone or member number)."

    def add_arguments(self, parser):
        parser.add_argument("identifier", help="E-mail, phone number in any format, or member number.")

    def handle(self, *args, identifier, **options):
        try:
            customer = customer_find(identifier=identifier)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        if customer is None:
            raise CommandError("No customer has that e-mail, phone or member number.")
        document = customer_export(customer=customer)
        customer_access_record(customer=customer, actor=None, action=CustomerAccess.Action.EXPORTED)
        self.stdout.write(json.dumps(document, indent=2, ensure_ascii=False))
