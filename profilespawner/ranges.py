"""Custom sizes: the values a user picks within a size's ranges (SPEC §9).

Pure. A size's ``ranges`` offer cpu, memory and gpu between ``min`` and
``max``; with that size chosen, ``user_options["cpu"]``, ``["memory"]`` and
``["gpu"]`` pick values, and a key not given takes its ``default``.
:func:`choose` checks what was given -- a value out of range, not a quantity,
given with no size or for a size without that range is a
:class:`~profilespawner.errors.UserOptionError` naming the size, the key and
the allowed range -- and returns every value of the size, canonical
(:class:`~profilespawner.model.RangeValues`). :func:`range_layers` turns them
into what the merge applies right after the size itself: cpu and memory
requested at the value and limited at the value × ``limit_factor``, gpu as
``gpu: N`` (both). Each layer's setter says so (``size 'Custom' (range cpu:
12)``, ``(range cpu: 12 × 2)`` for a limit), so the merge's record carries the
values to ``explain`` and the pod's provenance.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from . import quantities
from .errors import UserOptionError, quote
from .merge import Layer, Setter
from .model import RANGE_KEYS, PodSettings, Range, RangeValues, Size

__all__ = ["bounds", "choose", "range_layers", "ranges_text"]


def bounds(key: str, allowed: Range) -> str:
    """``1 to 16``, ``2Gi to 64Gi``: the values a range allows, as messages say them."""
    low = quantities.canonical(key, allowed.minimum)
    high = quantities.canonical(key, allowed.maximum)
    return low if low == high else f"{low} to {high}"


def ranges_text(size: Size) -> str:
    """``cpu 1 to 16, memory 2Gi to 64Gi, gpu 0 to 4``: a size's ranges in words."""
    return ", ".join(f"{key} {bounds(key, allowed)}" for key, allowed in size.ranges.items())


def _given(values: Mapping[str, Any]) -> dict[str, Any]:
    # None (JSON null) and "" (an empty form field) are no choice: the default applies.
    return {key: values[key] for key in RANGE_KEYS if key in values and not _absent(values[key])}


def _absent(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value == "")


def choose(
    size: Size | None,
    values: Mapping[str, Any],
    *,
    offered: Callable[[], Sequence[Size]] = tuple,
) -> RangeValues:
    """The values of ``size``'s ranges for this spawn: those ``values`` gives
    (``user_options``, unchecked), the defaults for the others.

    ``offered`` lists the sizes the user may pick, for the message refusing a
    value given without a size. Raises :class:`UserOptionError`.
    """
    given = _given(values)
    if size is None:
        if given:
            key = next(iter(given))
            names = tuple(s.name for s in offered() if key in s.ranges)
            where = (
                f"choose one of: {', '.join(quote(n) for n in names)}"
                if names
                else "no size you may pick has one"
            )
            raise UserOptionError(
                f"{key} {quantities.shown(given[key])} needs a size with a {key} range: {where}",
                allowed=names,
            )
        return RangeValues()
    label = f"size {quote(size.name)}"
    for key, value in given.items():
        if key not in size.ranges:
            offers = f"its ranges are: {ranges_text(size)}" if size.ranges else "it has no ranges"
            raise UserOptionError(
                f"{key} {quantities.shown(value)} cannot be chosen: this size has no {key} range ({offers})",
                profile=label,
            )
    chosen = []
    for key, allowed in size.ranges.items():
        if key not in given:
            amount = allowed.default
        else:
            value = given[key]
            try:
                amount = quantities.read(key, value)
            except ValueError as e:
                raise UserOptionError(
                    f"{key} {quantities.shown(value)} {e}: choose {bounds(key, allowed)}", profile=label
                ) from None
            if not allowed.minimum <= amount <= allowed.maximum:
                raise UserOptionError(
                    f"{key} {quantities.shown(value)} is out of range: choose {bounds(key, allowed)}",
                    profile=label,
                )
        chosen.append((key, quantities.canonical(key, amount)))
    return RangeValues(chosen)


def range_layers(size: Size, values: RangeValues) -> list[Layer]:
    """What ``values`` (from :func:`choose`) set, as layers merged after ``size``'s own."""
    layers = []
    for key, value in values.items():
        setter = Setter.of(size, via=f"range {key}: {value}")
        if key == "gpu":
            layers.append(Layer(setter, PodSettings(gpu=int(value))))
            continue
        limit = quantities.canonical(
            key, quantities.scaled(key, quantities.read(key, value), size.limit_factor)
        )
        if limit == value:
            layers.append(
                Layer(setter, PodSettings(resources={"requests": {key: value}, "limits": {key: value}}))
            )
        else:
            factor = _number(size.limit_factor)
            limiter = Setter.of(size, via=f"range {key}: {value} × {factor}")
            layers.append(Layer(setter, PodSettings(resources={"requests": {key: value}})))
            layers.append(Layer(limiter, PodSettings(resources={"limits": {key: limit}})))
    return layers


def _number(amount: Decimal) -> str:
    """``2``, ``1.5``: a plain number, without exponent or trailing zeros."""
    return format(amount.normalize(), "f")
