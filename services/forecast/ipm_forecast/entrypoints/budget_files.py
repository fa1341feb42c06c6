"""Budget lines read from an uploaded CSV or Excel (.xlsx) file.

The first row names the columns: ``line`` (required), ``cost_centre``, ``annual``, ``spread``
and one column per period, named by its key (``FY2024-P01``) or by its number (``P01``). A row
gives either ``annual`` (spread by ``spread``: even, profile or days) or amounts per period.
Every cell is read as text and amounts are parsed as exact decimals. An Excel file stores a
number cell as a binary double, so a number cell counts as the value that Excel displays, which
is the double rounded to 15 significant digits. For example 99999999.99 stays 99999999.99, and a
formula result of 0.1 + 0.2 counts as 0.3. Text cells arrive unchanged.
"""

import io
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import polars as pl

from ipm_common.errors import InvalidInput
from ipm_common.money import parse_amount
from ipm_common.periods import PeriodKey, fiscal_year_periods
from ipm_forecast.entrypoints.workbook_cells import check_first_sheet
from ipm_forecast.service_layer.budget_lines import BudgetLineRequest, check_cents
from ipm_forecast.service_layer.budget_versions import LinesInput

FileKind = Literal["csv", "xlsx"]

CSV_TYPES = ("text/csv", "application/csv")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILE_SPREADS = ("even", "profile", "days")
MAX_ROWS = 10_000

_IDENTIFIER = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")
_PERIOD_NUMBER = re.compile(r"P([0-9]{2})")


@dataclass(frozen=True)
class CellError:
    row: int
    column: str
    message: str
    type: str = "invalid"

    def as_detail(self) -> dict[str, str]:
        return {"field": f"rows[{self.row}].{self.column}", "row": str(self.row), "column": self.column,
                "message": f"row {self.row}, column {self.column}: {self.message}", "type": self.type}


def file_kind(content_type: str | None, filename: str | None) -> FileKind:
    """Tell CSV from Excel by the content type, or by the file name's extension."""
    media = (content_type or "").split(";")[0].strip().lower()
    name = (filename or "").lower()
    if media in CSV_TYPES or name.endswith(".csv"):
        return "csv"
    if media == XLSX_TYPE or name.endswith(".xlsx"):
        return "xlsx"
    raise InvalidInput(f"file: content type {media or 'missing'!r} is not supported; send text/csv or {XLSX_TYPE} "
                       "(a .csv or .xlsx file)", field="file")


def read_budget_file(content: bytes, kind: FileKind, fiscal_year: int) -> LinesInput:
    """Read every row into a budget line; raise ``InvalidInput`` listing each invalid cell with its row and column."""
    frame = _read_frame(content, kind)
    periods = fiscal_year_periods(fiscal_year)
    period_columns = _check_header(frame.columns, periods)

    errors: list[CellError] = []
    lines: list[BudgetLineRequest] = []
    rows: list[int] = []
    seen: dict[tuple[str, str], int] = {}
    for row_number, row in enumerate(frame.iter_rows(named=True), start=2):
        if all(value is None or not str(value).strip() for value in row.values()):
            continue
        earlier = seen.setdefault((row.get("line") or "", row.get("cost_centre") or ""), row_number)
        if earlier != row_number:
            errors.append(CellError(row_number, "line", f"{row.get('line')!r} repeats row {earlier}; give one row per "
                                    "line and cost centre", "duplicate_line"))
            continue
        line = _read_row(row_number, row, period_columns, errors)
        if line is None:
            continue
        lines.append(line)
        rows.append(row_number)

    if errors:
        first = errors[0].as_detail()
        raise InvalidInput(f"file rejected: {len(errors)} invalid cell(s), first {first['message']}",
                           field=first["field"], details=[error.as_detail() for error in errors])
    if not lines:
        raise InvalidInput("file: no rows of budget lines below the header; add one row per line", field="file")
    return LinesInput(lines, {}, prefixes=[f"rows[{row}]" for row in rows])


def _read_frame(content: bytes, kind: FileKind) -> pl.DataFrame:
    if kind == "xlsx":
        _check_first_sheet(content)
    try:
        if kind == "csv":
            frame = pl.read_csv(io.BytesIO(content), infer_schema=False, n_rows=MAX_ROWS + 1,
                                separator=_csv_separator(content))
        else:
            frame = _read_excel(content)
    except Exception as error:
        # polars and fastexcel raise several unrelated classes for unreadable files; each is bad input here.
        raise InvalidInput(f"file: the {kind} file cannot be read ({str(error).splitlines()[0]}); send a "
                           f"{'UTF-8 CSV file with a header row' if kind == 'csv' else '.xlsx workbook'}",
                           field="file") from None
    if frame.height > MAX_ROWS:
        raise InvalidInput(f"file: more than {MAX_ROWS} rows; split the budget into several files", field="file")
    return frame


def _csv_separator(content: bytes) -> str:
    """Return ";" for a header row separated by semicolons, the CSV that spreadsheets save in many locales."""
    header = content.split(b"\n", 1)[0]
    return ";" if b";" in header and b"," not in header else ","


def _check_first_sheet(content: bytes) -> None:
    """Reject error cells and formulas without a stored result, and name an empty first sheet."""
    # The header and one row more than allowed are enough to reject the file for its length.
    check = check_first_sheet(content, MAX_ROWS + 2)
    if check is None:
        # The reader names the fault of a file that is no .xlsx package.
        return
    if check.unusable:
        errors = [CellError(cell.row, cell.column, f"cell {cell.reference} {cell.message}", "unusable_cell")
                  for cell in check.unusable]
        first = errors[0].as_detail()
        raise InvalidInput(f"file rejected: {len(errors)} invalid cell(s), first {first['message']}",
                           field=first["field"], details=[error.as_detail() for error in errors])
    if not check.has_values:
        raise InvalidInput("file: the first sheet of the workbook is empty; put the budget lines on the first "
                           "sheet, with the column names in its first row", field="file")


def _read_excel(content: bytes) -> pl.DataFrame:
    """Read every cell as text, number cells as the 15 significant digits that Excel displays."""
    texts = pl.read_excel(io.BytesIO(content), engine="calamine", infer_schema_length=0)
    typed = pl.read_excel(io.BytesIO(content), engine="calamine")
    columns = []
    for name in texts.columns:
        if typed[name].dtype.is_float():
            values = [None if value is None else _excel_number(value) for value in typed[name].to_list()]
            columns.append(pl.Series(name, values, dtype=pl.String))
        else:
            columns.append(texts[name])
    return pl.DataFrame(columns)


def _excel_number(value: float) -> str:
    # NOTE: Excel keeps 15 significant digits of a number; the digits of the double beyond them are noise.
    return format(Decimal(format(value, ".15g")), "f")


def _check_header(columns: list[str], periods: list[PeriodKey]) -> dict[str, str]:
    """Map each period column to its period key; reject unknown and missing columns."""
    keys = {str(period) for period in periods}
    period_columns: dict[str, str] = {}
    errors: list[CellError] = []
    for column in columns:
        if column in ("line", "cost_centre", "annual", "spread"):
            continue
        number = _PERIOD_NUMBER.fullmatch(column)
        key = str(PeriodKey(periods[0].fiscal_year, int(number.group(1)))) if number and 1 <= int(
            number.group(1)) <= len(periods) else column
        if key in keys:
            period_columns[column] = key
        else:
            errors.append(CellError(1, column, f"unknown column {column!r}; use line, cost_centre, annual, spread "
                                    f"and period columns {periods[0]} to {periods[-1]} (or P01 to "
                                    f"P{len(periods):02d})", "unknown_column"))
    if "line" not in columns:
        errors.append(CellError(1, "line", "missing column 'line'; name the account or hierarchy node of each row "
                                "in it", "missing_column"))
    if errors:
        raise InvalidInput(f"file rejected: invalid header, first {errors[0].as_detail()['message']}",
                           field=errors[0].as_detail()["field"], details=[error.as_detail() for error in errors])
    return period_columns


def _read_row(row_number: int, row: dict[str, str | None], period_columns: dict[str, str],
              errors: list[CellError]) -> BudgetLineRequest | None:
    count = len(errors)
    line = _identifier(row_number, "line", row.get("line"), errors, required=True)
    cost_centre = _identifier(row_number, "cost_centre", row.get("cost_centre"), errors, required=False)
    annual = _amount(row_number, "annual", row.get("annual"), errors)
    spread = (row.get("spread") or "even").strip() or "even"
    if spread not in FILE_SPREADS:
        errors.append(CellError(row_number, "spread", f"{spread!r} is unknown; use one of {', '.join(FILE_SPREADS)}, "
                                "or give the amounts in the period columns", "invalid_spread"))
    periods: dict[str, Decimal] = {}
    for column, key in period_columns.items():
        amount = _amount(row_number, column, row.get(column), errors)
        if amount is not None:
            periods[key] = amount

    if len(errors) == count:
        _check_totals(row_number, annual, periods, errors)
    if len(errors) > count or line is None:
        return None
    return BudgetLineRequest(line, cost_centre or "", annual, periods or None, spread)


def _check_totals(row_number: int, annual: Decimal | None, periods: dict[str, Decimal],
                  errors: list[CellError]) -> None:
    if annual is None and not periods:
        errors.append(CellError(row_number, "annual", "empty, and so are the period columns; give annual or the "
                                "amounts per period", "missing_amount"))
    elif annual is not None and periods and sum(periods.values(), Decimal(0)) != annual:
        errors.append(CellError(row_number, "annual", f"{annual} differs from the sum of the period columns, "
                                f"{sum(periods.values(), Decimal(0))}; give either annual or the periods",
                                "total_mismatch"))


def _identifier(row_number: int, column: str, value: str | None, errors: list[CellError], *,
                required: bool) -> str | None:
    if value is None or value == "":
        if required:
            errors.append(CellError(row_number, column, "empty; give the account id or hierarchy node",
                                    "missing_value"))
        return None
    if _IDENTIFIER.fullmatch(value) is None:
        errors.append(CellError(row_number, column, f"{value!r} is not an id; use 1-64 letters, digits, '_', '.', "
                                "':' or '-' without spaces", "invalid_id"))
        return None
    return value


def _amount(row_number: int, column: str, value: str | None, errors: list[CellError]) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = parse_amount(value, field=column)
        check_cents(amount, column)
    except InvalidInput as error:
        errors.append(CellError(row_number, column, str(error).removeprefix(f"{column}: "), "invalid_amount"))
        return None
    return amount
