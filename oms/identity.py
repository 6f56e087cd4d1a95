"""Which customer an order belongs to: one person across channels, never two people in one record.

The rule: an order joins a live customer who holds its e-mail, phone or member number,
unless something it says contradicts that customer: a different phone, a different member
number, or a clearly different name (no word of two letters or more in common). Then the
order gets a new customer holding the identifiers no one else holds, and the pair is
recorded as a ``PossibleDuplicate`` for an agent to merge if they are one person after all.

A different e-mail alone is no contradiction: people keep several addresses, and
marketplaces hand out relay addresses. A phone is personal enough that a second one next
to the same e-mail (a family's shared address, a typo) means another person until an
agent says otherwise. Each identifier belongs to one live customer at most (the unique
indexes on ``Customer``), which is what lets concurrent first orders create one customer.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from django.db import IntegrityError, transaction
from django.db.models import Q

from core.errors import InvalidInput

from .models import Customer, PossibleDuplicate

IDENTIFIERS = ("email", "phone", "member_number")
_LABELS = {"email": "e-mail", "phone": "phone", "member_number": "member number", "name": "name"}
# A concurrent first order can take an identifier between the read and the insert; each lost
# race brings the winner into the next read, and an order names at most three identifiers.
_ATTEMPTS = 5


def normalise_email(email: str | None) -> str | None:
    email = (email or "").strip().lower()
    return email or None


def normalise_phone(phone: str | None, *, region: str = "GB") -> str | None:
    """Return the phone number in E.164, or raise InvalidInput when it is not a possible number."""
    if not (phone or "").strip():
        return None
    try:
        parsed = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(f"Not a phone number: {exc}.", errors={"customer.phone": ["Not a phone number."]}) from exc
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidInput("Not a possible phone number.", errors={"customer.phone": ["Not a possible phone number."]})
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# Letters Unicode does not split into a base letter and an accent, written as on an English keyboard.
PLAIN_LETTERS = str.maketrans(
    {"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D"}
    | {"ð": "d", "Ð": "D", "þ": "th", "Þ": "TH", "ı": "i", "ħ": "h", "Ħ": "H"}
)


def normalise_name(name: str | None) -> str:
    """The name as the search column holds it: no accents, no case, each word after one space.

    "Zoë MÜLLER" becomes " zoe muller", so a search for the start of any word is a LIKE on
    " mul%"-like patterns the index serves (``oms.selectors.customers_search``).
    """
    plain = unicodedata.normalize("NFKD", (name or "").translate(PLAIN_LETTERS))
    kept = (ch for ch in plain if not unicodedata.combining(ch) and ch not in "'’")  # O'Brien is obrien
    words = "".join(ch if ch.isalnum() else " " for ch in kept).casefold().split()  # Ångström-Lee is two words
    return "".join(f" {word}" for word in words)[: Customer._meta.get_field("name_search").max_length]


def _name_words(name: str) -> set[str]:
    plain = (
        unicodedata.normalize("NFKD", (name or "").translate(PLAIN_LETTERS))
        .encode("ascii", "ignore")
        .decode()
        .casefold()
    )
    return {word for word in re.findall(r"[a-z]+", plain) if len(word) > 1}


def names_differ(one: str, other: str) -> bool:
    """Whether two names are clearly different people's: both given and no word in common.

    "A. Lee", "Ann" and "Mrs Ann Lee-Jones" may all be Ann Lee; "Bob Smith" is not.
    """
    words, others = _name_words(one), _name_words(other)
    return bool(words and others and not words & others)


def contradictions(customer: Customer, given: dict[str, str], name: str) -> list[str]:
    """What the order says that this customer's record contradicts (empty: the order may join them)."""
    found = [
        key
        for key in ("phone", "member_number")
        if given.get(key) and getattr(customer, key) and getattr(customer, key) != given[key]
    ]
    if names_differ(customer.name, name):
        found.append("name")
    return found


def _live_customers(given: dict[str, str]) -> list[Customer]:
    """Every live customer holding any of the ``given`` identifiers (field → value), oldest first.

    At most one row per identifier, by the unique indexes.
    """
    holds_any = Q()
    for key, value in given.items():
        holds_any |= Q(**{key: value})
    live = Customer.objects.filter(holds_any, merged_into__isnull=True)
    return list(live.only("pk", *IDENTIFIERS, "name").order_by("pk"))


def _customer_create(*, name: str, identifiers: dict[str, str]) -> Customer | None:
    """Create a customer holding ``identifiers``, or return None when a live one already holds any of them.

    ON CONFLICT DO NOTHING (``ignore_conflicts``) instead of catching IntegrityError: a lost
    race with a concurrent first order then needs no savepoint around the INSERT, and the
    transaction stays usable. Such an INSERT returns no key, so the row is read back.
    """
    customer = Customer(name=name, name_search=normalise_name(name), **identifiers)
    if not identifiers:  # nothing anyone else could hold
        customer.save()
        return customer
    Customer.objects.bulk_create([customer], ignore_conflicts=True)
    try:  # by a unique identifier: at most one row
        return Customer.objects.only("pk", *IDENTIFIERS, "name").get(merged_into__isnull=True, name=name, **identifiers)
    except Customer.DoesNotExist:
        return None


def _reason(customer: Customer, other: Customer, given: dict[str, str], name: str) -> str:
    """What one order said that ties ``other`` to ``customer``, and what differs (no personal data)."""
    shared = [_LABELS[k] for k in IDENTIFIERS if given.get(k) and getattr(other, k) == given[k]]
    differ = [_LABELS[k] for k in contradictions(other, given, name)]
    text = f"one order gave the {' and '.join(shared)} of #{other.pk} to #{customer.pk}"
    if differ:
        text += f"; the {' and '.join(differ)} {'differs' if len(differ) == 1 else 'differ'}"
    return text[:128]


def _flag(customer: Customer, others: list[Customer], given: dict[str, str], name: str) -> None:
    if not others:
        return
    PossibleDuplicate.objects.bulk_create(
        [
            PossibleDuplicate(
                customer_id=min(customer.pk, other.pk),
                other_id=max(customer.pk, other.pk),
                reason=_reason(customer, other, given, name),
            )
            for other in others
        ],
        ignore_conflicts=True,  # flagged once, however many orders tie the pair
    )


def _identifiers_add(customer: Customer, missing: dict[str, str]) -> bool:
    """Give the customer identifiers no one held a moment ago; False when a concurrent order took one first.

    The savepoint keeps the order's transaction usable after losing that race: the order
    still joins the customer, who simply does not gain the identifier.
    """
    try:
        with transaction.atomic():
            Customer.objects.filter(pk=customer.pk).update(**missing)
    except IntegrityError:
        return False
    return True


def _flagged_namesake(candidates: list[Customer], given: dict[str, str], name: str) -> Customer | None:
    """The record made for this person by an earlier order, when every identifier they give is someone else's.

    Such a record holds none of the order's identifiers, so only the flag and the name lead
    back to it; without this, each of their orders would make yet another record.
    """
    words = _name_words(name)
    if not words:
        return None
    ids = [c.pk for c in candidates]
    flagged = PossibleDuplicate.objects.filter(Q(customer__in=ids) | Q(other__in=ids))
    partners = {pk for pair in flagged.values_list("customer_id", "other_id") for pk in pair} - set(ids)
    for partner in Customer.objects.filter(pk__in=partners, merged_into__isnull=True).order_by("pk"):
        if _name_words(partner.name) & words and not contradictions(partner, given, name):
            return partner
    return None


def customer_resolve(
    *, email: str | None = None, phone: str | None = None, member_number: str | None = None, name: str = ""
) -> Customer | None:
    """Find the customer an order belongs to under the identity rule, or create them.

    None when nothing identifies them (a walk-in with a name only). Identifiers the
    customer lacks and no one else holds are added to their record.
    """
    email, phone = normalise_email(email), normalise_phone(phone)
    member_number = (member_number or "").strip() or None
    name = (name or "").strip()
    given = {k: v for k, v in zip(IDENTIFIERS, (email, phone, member_number), strict=True) if v}
    if not given:
        return None
    for _ in range(_ATTEMPTS):
        candidates = _live_customers(given)
        joinable = [c for c in candidates if not contradictions(c, given, name)]
        held = {k for k, v in given.items() for c in candidates if getattr(c, k) == v}
        if joinable:
            customer = joinable[0]
            missing = {k: v for k, v in given.items() if k not in held and not getattr(customer, k)}
            if missing and _identifiers_add(customer, missing):
                for k, v in missing.items():
                    setattr(customer, k, v)
        elif held == given.keys() and (namesake := _flagged_namesake(candidates, given, name)) is not None:
            customer = namesake
        else:
            free = {k: v for k, v in given.items() if k not in held}
            customer = _customer_create(name=name, identifiers=free)
            if customer is None:
                continue  # a concurrent order took one of them first: decide again with it in view
        _flag(customer, [c for c in candidates if c.pk != customer.pk], given, name)
        return customer
    raise RuntimeError("The customer's identifiers kept changing hands; try the order again.")
