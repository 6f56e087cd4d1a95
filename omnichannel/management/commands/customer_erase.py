import getpass

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from omnichannel.privacy.erasure import customer_erase
from omnichannel.privacy.export import customer_find


class Command(BaseCommand):
    help = (
        "Anonymise a person's data wherever it is stored, keeping orders, amounts and stock history; "
        "refused while any of their orders is open."
    )

    def add_arguments(self, parser):
        parser.add_argument("identifier", help="E-mail, phone number in any format, or member number.")
        parser.add_argument("--reason", required=True, help="Why, for the audit trail (e.g. the request's ticket).")
        parser.add_argument("--by", help="The staff username the erasure is recorded against.")

    def handle(self, *args, identifier, reason, by=None, **options):
        actor = None
        if by:
            actor = get_user_model().objects.filter(username=by).first()
            if actor is None:
                raise CommandError(f"No staff user {by!r}.")
        else:
            reason = f"{reason} (command line, {getpass.getuser()})"
        try:
            customer = customer_find(identifier=identifier)
            if customer is None:
                raise CommandError("No customer has that e-mail, phone or member number.")
            customer_erase(customer=customer, reason=reason, actor=actor)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Customer #{customer.pk} erased: personal data anonymised; orders and amounts kept.")
