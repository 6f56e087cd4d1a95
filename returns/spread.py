"""Which order lines a return's units belong to when one SKU is on several lines of an order.

A return names SKUs. Its units are spread over that SKU's order lines in line order, each
line up to what is still returnable on it, so every unit can be returned once and is
refunded at its own line's price.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from oms.models import OrderLine

from .models import Return, ReturnLine

T = TypeVar("T")


def spread(quantity: int, rooms: Iterable[tuple[T, int]]) -> list[tuple[T, int]]:
    """Fill ``rooms`` [(key, room)] in order, each up to its room: [(key, units)] for the units that fit."""
    taken, left = [], quantity
    for key, room in rooms:
        n = min(room, left)
        if n > 0:
            taken.append((key, n))
            left -= n
    return taken


class Receipt:
    """Where the units of one SKU that arrived are booked: first on the return's own lines up to
    what each asked for, then on any line of the SKU with units still returnable (a parcel that
    held more than was asked for); never more than was sold and not yet returned.
    """

    def __init__(self, ret: Return, lines: list[ReturnLine], order_lines: list[OrderLine], returnable: dict[int, int]):
        self.ret, self.lines = ret, list(lines)
        self.expected = sum(rl.quantity for rl in lines)
        self._asked = [[rl, rl.quantity] for rl in lines]
        self._extra = [[ol, returnable.get(ol.pk, 0)] for ol in order_lines]

    @property
    def sold(self) -> int:
        """This return's units plus those still returnable on the SKU's lines."""
        return self.expected + sum(room for _, room in self._extra)

    @property
    def received(self) -> int:
        return sum(rl.received_quantity for rl in self.lines)

    def book(self, quantity: int, *, damaged: bool) -> None:
        left = quantity
        for slots, to_line in ((self._asked, lambda rl, n: rl), (self._extra, self._line_of)):
            for slot in slots:
                n = min(slot[1], left)
                if n <= 0:
                    continue
                rl = to_line(slot[0], n)
                if damaged:
                    rl.damaged_quantity += n
                else:
                    rl.resellable_quantity += n
                slot[1] -= n
                left -= n

    def _line_of(self, order_line: OrderLine, n: int) -> ReturnLine:
        for rl in self.lines:
            if rl.order_line_id == order_line.pk:
                return rl
        rl = ReturnLine(ret=self.ret, order_line=order_line, sku=order_line.sku, quantity=n)
        self.lines.append(rl)
        return rl

    def save(self) -> None:
        for rl in self.lines:
            if rl.pk is None:
                rl.save()
            else:
                rl.save(update_fields=["resellable_quantity", "damaged_quantity"])
