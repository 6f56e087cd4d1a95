"""Template filters of the returns desk."""

from django import template

register = template.Library()


@register.filter
def masked(contact: str | None) -> str:
    """Enough of an e-mail or phone number to confirm who the customer is, without showing it to the queue."""
    if not contact:
        return ""
    if "@" in contact:
        name, domain = contact.split("@", 1)
        return f"{name[:1]}•••@{domain}"
    return f"•••{contact[-4:]}"


@register.filter
def words(code: str) -> str:
    """A stored code such as ``quantity_mismatch`` or ``store_credit`` as plain words."""
    return str(code).replace("_", " ")
