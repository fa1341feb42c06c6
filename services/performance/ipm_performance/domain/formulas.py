"""KPI formulas over lines: a small, safe expression language evaluated in Decimal.

Grammar::

    expression := term (("+" | "-") term)*
    term       := factor (("*" | "/") factor)*
    factor     := ("-" | "+") factor | number | reference | "(" expression ")"
    reference  := name | "{" any text but "}" "}" | "prior(" reference ")"

A name is a line id made of letters, digits, ``_`` and ``.``, starting with a letter or ``_``.
A line id with other characters goes in braces. ``prior(line)`` is the same span of the line
one fiscal year earlier. Numbers are plain decimals such as ``100`` or ``0.5``. Nothing else is
accepted: no function calls but ``prior``, no attributes, no exponent, so evaluating a formula
can only read lines and do arithmetic. A division by zero, or a reference to a line without a
figure, makes the whole result None.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from ipm_common.errors import InvalidInput

_TOKEN = re.compile(r"\s*(?:(?P<number>[0-9]+(?:\.[0-9]+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_.]*)"
                    r"|\{(?P<braced>[^{}]+)\}|(?P<symbol>[-+*/()]))")
MAX_FORMULA_LENGTH = 1000


@dataclass(frozen=True)
class Reference:
    """A line in a formula, in the current span or, with ``prior``, the same span a year earlier."""

    line: str
    prior: bool = False


Lookup = Callable[[Reference], Decimal | None]


@dataclass(frozen=True)
class Formula:
    """A parsed formula: its text and the lines it reads."""

    text: str
    _root: "_Node"

    @property
    def references(self) -> frozenset[Reference]:
        return frozenset(self._root.references())

    def evaluate(self, lookup: Lookup) -> Decimal | None:
        """Evaluate with ``lookup`` giving each reference's figure; None on a division by zero or a missing figure."""
        return self._root.evaluate(lookup)


class _Node:
    def evaluate(self, lookup: Lookup) -> Decimal | None:
        raise NotImplementedError

    def references(self) -> set[Reference]:
        return set()


@dataclass(frozen=True)
class _Number(_Node):
    value: Decimal

    def evaluate(self, lookup: Lookup) -> Decimal | None:
        return self.value


@dataclass(frozen=True)
class _Line(_Node):
    reference: Reference

    def evaluate(self, lookup: Lookup) -> Decimal | None:
        return lookup(self.reference)

    def references(self) -> set[Reference]:
        return {self.reference}


@dataclass(frozen=True)
class _Negate(_Node):
    operand: _Node

    def evaluate(self, lookup: Lookup) -> Decimal | None:
        value = self.operand.evaluate(lookup)
        return None if value is None else -value

    def references(self) -> set[Reference]:
        return self.operand.references()


@dataclass(frozen=True)
class _Binary(_Node):
    operator: str
    left: _Node
    right: _Node

    def evaluate(self, lookup: Lookup) -> Decimal | None:
        left = self.left.evaluate(lookup)
        right = self.right.evaluate(lookup)
        if left is None or right is None:
            return None
        if self.operator == "+":
            return left + right
        if self.operator == "-":
            return left - right
        if self.operator == "*":
            return left * right
        if right == 0:
            return None
        return left / right

    def references(self) -> set[Reference]:
        return self.left.references() | self.right.references()


def parse_formula(text: str) -> Formula:
    """Parse ``text`` into a formula; raise ``InvalidInput`` on field ``formula`` naming the position of an error."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("formula: empty; expected an expression such as \"(SALES - COGS) / SALES\"",
                           field="formula")
    if len(text) > MAX_FORMULA_LENGTH:
        raise InvalidInput(f"formula: longer than {MAX_FORMULA_LENGTH} characters; shorten it", field="formula")
    parser = _Parser(text, _tokenize(text))
    root = parser.expression()
    parser.expect_end()
    return Formula(text, root)


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    tokens: list[tuple[str, str, int]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            raise _invalid(text, position + len(text[position:]) - len(text[position:].lstrip()),
                           "an unexpected character")
        kind = match.lastgroup
        tokens.append((kind, match.group(kind), match.start(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, tokens: list[tuple[str, str, int]]) -> None:
        self.text = text
        self.tokens = tokens
        self.index = 0

    def expression(self) -> _Node:
        node = self.term()
        while self._peek_symbol("+", "-"):
            operator = self._take()[1]
            node = _Binary(operator, node, self.term())
        return node

    def term(self) -> _Node:
        node = self.factor()
        while self._peek_symbol("*", "/"):
            operator = self._take()[1]
            node = _Binary(operator, node, self.factor())
        return node

    def factor(self) -> _Node:
        if self._peek_symbol("-"):
            self._take()
            return _Negate(self.factor())
        if self._peek_symbol("+"):
            self._take()
            return self.factor()
        if self._peek_symbol("("):
            self._take()
            node = self.expression()
            self._expect_symbol(")")
            return node

        kind, value, position = self._take()
        if kind == "number":
            return _Number(Decimal(value))
        if kind == "name" and value == "prior" and self._peek_symbol("("):
            return self._prior()
        if kind in ("name", "braced"):
            return _Line(Reference(value.strip()))
        raise _invalid(self.text, position, f"{value!r} where a number, a line or '(' belongs")

    def _prior(self) -> _Node:
        self._expect_symbol("(")
        kind, value, position = self._take()
        if kind not in ("name", "braced"):
            raise _invalid(self.text, position, "prior() without a line; write prior(SALES)")
        self._expect_symbol(")")
        return _Line(Reference(value.strip(), prior=True))

    def expect_end(self) -> None:
        if self.index < len(self.tokens):
            _, value, position = self.tokens[self.index]
            raise _invalid(self.text, position, f"{value!r} after a complete expression")

    def _peek_symbol(self, *symbols: str) -> bool:
        if self.index >= len(self.tokens):
            return False
        kind, value, _ = self.tokens[self.index]
        return kind == "symbol" and value in symbols

    def _take(self) -> tuple[str, str, int]:
        if self.index >= len(self.tokens):
            raise _invalid(self.text, len(self.text), "the end of the formula where an operand belongs")
        token = self.tokens[self.index]
        self.index += 1
        return token

    def _expect_symbol(self, symbol: str) -> None:
        if not self._peek_symbol(symbol):
            position = self.tokens[self.index][2] if self.index < len(self.tokens) else len(self.text)
            raise _invalid(self.text, position, f"a missing {symbol!r}")
        self._take()


def _invalid(text: str, position: int, problem: str) -> InvalidInput:
    return InvalidInput(f"formula: {text!r} is invalid at position {position}: {problem}; expected +, -, *, /, "
                        "parentheses, numbers and line ids such as SALES or {Sales - retail}", field="formula")


# --- built-in KPI kinds ----------------------------------------------------------------------------

KPI_KINDS: Mapping[str, tuple[tuple[str, ...], str]] = {
    "gross_margin": (("revenue", "cost_of_sales"), "({revenue} - {cost_of_sales}) / {revenue}"),
    "operating_margin": (("operating_income", "revenue"), "{operating_income} / {revenue}"),
    "growth": (("line",), "{line} / prior({line}) - 1"),
    "cash_conversion": (("operating_cash_flow", "operating_income"), "{operating_cash_flow} / {operating_income}"),
}
"""Each built-in KPI kind: the roles its lines play, and its formula with the lines put in braces."""


def formula_of_kind(kind: str, lines: Mapping[str, str]) -> str:
    """Build the formula text of a built-in KPI kind from the line id of each role."""
    if kind not in KPI_KINDS:
        raise InvalidInput(f"kind: {kind!r} is unknown; expected one of {', '.join(KPI_KINDS)} or a formula",
                           field="kind")
    roles, template = KPI_KINDS[kind]
    missing = [role for role in roles if role not in lines]
    if missing:
        raise InvalidInput(f"lines: {kind} needs a line for {', '.join(missing)}; expected lines for "
                           f"{', '.join(roles)}", field="lines")
    return template.format(**{role: "{" + lines[role] + "}" for role in roles})
