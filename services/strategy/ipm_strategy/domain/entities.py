"""Entities: the legal or reporting units with a functional currency and a fiscal calendar."""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ipm_common.calendar import FiscalCalendar
from ipm_common.errors import InvalidInput

_CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True)
class Entity:
    """A registered entity with its ISO 4217 functional currency and its fiscal calendar."""

    entity_id: str
    name: str
    currency: str
    calendar: FiscalCalendar


def register_entity(entity_id: str, name: str, currency: str, calendar: Mapping[str, object]) -> Entity:
    """Build an entity, validating the currency code and the fiscal calendar settings."""
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise InvalidInput(
            f"currency: {currency!r} is not an ISO 4217 code; expected three upper-case letters such as \"USD\"",
            field="currency",
        )
    return Entity(entity_id, name, currency, parse_calendar(calendar))


def parse_calendar(settings: Mapping[str, object]) -> FiscalCalendar:
    """Build a fiscal calendar from its settings. Errors name the field as ``calendar.<setting>``."""
    try:
        return FiscalCalendar.from_dict(settings)
    except InvalidInput as error:
        if not error.field or error.field == "calendar":
            raise
        raise InvalidInput(f"calendar.{error}", field=f"calendar.{error.field}") from None
