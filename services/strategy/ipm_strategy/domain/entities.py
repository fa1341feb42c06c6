"""Entities: the legal or reporting units with a functional currency and a fiscal calendar.

Once an entity is registered, the other services book its amounts in its currency and into the
periods of its calendar, so only its name may change afterwards.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from ipm_common.calendar import FiscalCalendar
from ipm_common.errors import Conflict, InvalidInput
from ipm_strategy.domain.currencies import ACTIVE_CURRENCY_CODES


@dataclass(frozen=True)
class Entity:
    """A registered entity with its ISO 4217 functional currency and its fiscal calendar."""

    entity_id: str
    name: str
    currency: str
    calendar: FiscalCalendar


def register_entity(entity_id: str, name: str, currency: str, calendar: Mapping[str, object]) -> Entity:
    """Build an entity, validating the currency code and the fiscal calendar settings."""
    check_currency(currency)
    return Entity(entity_id, name, currency, parse_calendar(calendar))


def check_currency(currency: object) -> None:
    """Raise ``InvalidInput`` unless ``currency`` is an active ISO 4217 code."""
    if isinstance(currency, str) and currency in ACTIVE_CURRENCY_CODES:
        return

    hint = "expected an active ISO 4217 code such as \"USD\" or \"EUR\""
    if isinstance(currency, str) and currency.upper() in ACTIVE_CURRENCY_CODES:
        hint = f"write the code in upper case: {currency.upper()!r}"
    raise InvalidInput(f"currency: {currency!r} is not an active ISO 4217 currency code; {hint}", field="currency")


def check_entity_change(stored: Entity, changed: Entity) -> None:
    """Raise ``Conflict`` when a change of a registered entity touches its currency or its fiscal calendar.

    Ledgers, budgets and forecasts already hold the entity's amounts in its currency and in the
    periods of its calendar, and a new currency or calendar would mix old and new amounts.
    """
    if changed.currency != stored.currency:
        raise _immutable(stored, "currency", stored.currency, changed.currency)

    stored_settings: Mapping[str, object] = stored.calendar.to_dict()
    changed_settings: Mapping[str, object] = changed.calendar.to_dict()
    for setting in sorted(stored_settings.keys() | changed_settings.keys()):
        before, after = stored_settings.get(setting), changed_settings.get(setting)
        if before != after:
            raise _immutable(stored, f"calendar.{setting}", before, after)


def _immutable(stored: Entity, field: str, before: object, after: object) -> Conflict:
    return Conflict(
        f"{field}: entity {stored.entity_id!r} is registered with {before!r}, which cannot change to {after!r}, "
        "because its booked amounts and fiscal periods depend on it; "
        f"send {before!r}, or register a new entity such as {stored.entity_id + '-2'!r} with {after!r}",
        reason="immutable_field",
    )


def parse_calendar(settings: Mapping[str, object]) -> FiscalCalendar:
    """Build a fiscal calendar from its settings. Errors name the field as ``calendar.<setting>``."""
    try:
        return FiscalCalendar.from_dict(settings)
    except InvalidInput as error:
        if not error.field or error.field == "calendar":
            raise
        raise InvalidInput(f"calendar.{error}", field=f"calendar.{error.field}") from None
