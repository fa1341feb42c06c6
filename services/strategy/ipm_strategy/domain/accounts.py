"""Accounts of the chart of accounts, with the defaults that follow from an account's type.

Revenue, liability and equity balances sit on the credit side and the others on the debit side.
More revenue or equity is better and less expense is better. Whether more of an asset, a
liability or a statistical quantity is better depends on the account, such as receivables
(lower is better) against cash (higher is better), so those accounts must state a direction.

Once an account is defined, its type, statement and normal balance stay as they are, because
the other services sign and report its amounts by them. Name, direction and non_negative may change.
"""

from dataclasses import dataclass
from typing import Literal

from ipm_common.errors import Conflict, InvalidInput
from ipm_common.events import AccountType

Statement = Literal["income_statement", "balance_sheet", "cash_flow", "statistical"]
NormalBalance = Literal["debit", "credit"]
Direction = Literal["higher_is_better", "lower_is_better"]

DEFAULT_STATEMENT: dict[AccountType, Statement] = {
    "revenue": "income_statement",
    "expense": "income_statement",
    "asset": "balance_sheet",
    "liability": "balance_sheet",
    "equity": "balance_sheet",
    "statistical": "statistical",
}

DEFAULT_NORMAL_BALANCE: dict[AccountType, NormalBalance] = {
    "revenue": "credit",
    "liability": "credit",
    "equity": "credit",
    "expense": "debit",
    "asset": "debit",
    "statistical": "debit",
}

IMMUTABLE_FIELDS: tuple[str, ...] = ("account_type", "statement", "normal_balance")

# Asset, liability and statistical accounts are missing on purpose: their direction is required.
DEFAULT_DIRECTION: dict[AccountType, Direction] = {
    "revenue": "higher_is_better",
    "equity": "higher_is_better",
    "expense": "lower_is_better",
}


@dataclass(frozen=True)
class Account:
    """One account of the chart of accounts, with every default resolved."""

    account_id: str
    name: str
    account_type: AccountType
    statement: Statement
    normal_balance: NormalBalance
    direction: Direction
    non_negative: bool = False


def define_account(account_id: str, name: str, account_type: AccountType, *, statement: Statement | None = None,
                   normal_balance: NormalBalance | None = None, direction: Direction | None = None,
                   non_negative: bool = False) -> Account:
    """Build an account, filling statement, normal balance and direction from its type where not given."""
    resolved_statement = statement or DEFAULT_STATEMENT[account_type]
    _check_statement(account_type, resolved_statement)

    return Account(
        account_id=account_id,
        name=name,
        account_type=account_type,
        statement=resolved_statement,
        normal_balance=normal_balance or DEFAULT_NORMAL_BALANCE[account_type],
        direction=direction or _default_direction(account_type),
        non_negative=non_negative,
    )


def _default_direction(account_type: AccountType) -> Direction:
    direction = DEFAULT_DIRECTION.get(account_type)
    if direction is None:
        raise InvalidInput(
            f"direction: missing; accounts of type {account_type!r} have no default direction, so set "
            "'higher_is_better' or 'lower_is_better' (receivables, for example, are lower_is_better)",
            field="direction",
        )
    return direction


def _check_statement(account_type: AccountType, statement: Statement) -> None:
    # A statistical quantity such as headcount is not money and belongs on no financial statement.
    if (account_type == "statistical") != (statement == "statistical"):
        expected = "statistical" if account_type == "statistical" else "income_statement, balance_sheet or cash_flow"
        raise InvalidInput(
            f"statement: {statement!r} does not fit account type {account_type!r}; expected {expected}",
            field="statement",
        )


def check_account_change(stored: Account, changed: Account, *, prefix: str = "") -> None:
    """Raise ``Conflict`` when a change of a defined account touches its type, statement or normal balance.

    ``prefix`` goes before the field name in the message, such as ``[2].`` for an item of a list.
    """
    for field in IMMUTABLE_FIELDS:
        before, after = getattr(stored, field), getattr(changed, field)
        if before != after:
            raise Conflict(
                f"{prefix}{field}: account {stored.account_id!r} is defined with {field} {before!r}, which cannot "
                f"change to {after!r}, because its amounts are already booked and signed by it; "
                f"send {field} {before!r}, or define a new account under another account_id",
                reason="immutable_field",
            )
