"""Budget lines from CSV and Excel files: exact amounts and every invalid cell named by row and column."""

import io
import zipfile
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
import xlsxwriter

from ipm_common.errors import InvalidInput
from ipm_forecast.entrypoints.budget_files import XLSX_TYPE, file_kind, read_budget_file

CSV = (b"line,cost_centre,annual,spread,P01,P02\n"
       b"tax,,1200.10,even,,\n"
       b"fees,north,,,0.10,0.20\n")


def test_csv_rows_become_lines() -> None:
    entered = read_budget_file(CSV, "csv", 2024)

    tax, fees = entered.lines
    assert (tax.line, tax.annual, tax.spread, tax.periods) == ("tax", Decimal("1200.10"), "even", None)
    assert fees.periods == {"FY2024-P01": Decimal("0.10"), "FY2024-P02": Decimal("0.20")}
    assert fees.cost_centre == "north"
    assert entered.prefixes == ["rows[2]", "rows[3]"]


def test_full_period_keys_accepted() -> None:
    entered = read_budget_file(b"line,FY2024-P12\ntax,5\n", "csv", 2024)

    assert entered.lines[0].periods == {"FY2024-P12": Decimal("5")}


def test_every_invalid_cell_listed() -> None:
    content = (b"line,annual,spread,P01\n"
               b"tax,12.345,,\n"        # row 2: fraction of a cent
               b"fees,1e3,,\n"          # row 3: exponent
               b"bad id,1,,\n"          # row 4: space in the id
               b"tax2,,weekly,\n"       # row 5: unknown spread
               b"tax3,,,\n"             # row 6: no amount at all
               b"tax4,10,,3\n"          # row 7: annual differs from the periods
               b"tax,1,,\n")            # row 8: repeats row 2's line

    with pytest.raises(InvalidInput) as raised:
        read_budget_file(content, "csv", 2024)

    found = [(item["row"], item["column"]) for item in raised.value.details]
    assert found == [("2", "annual"), ("3", "annual"), ("4", "line"), ("5", "spread"), ("6", "annual"),
                     ("7", "annual"), ("8", "line")]
    assert raised.value.details[0]["field"] == "rows[2].annual"
    assert "round it to two decimal places" in raised.value.details[0]["message"]


def test_unknown_column_rejected() -> None:
    with pytest.raises(InvalidInput) as raised:
        read_budget_file(b"line,annual,P13,FY2023-P01\ntax,1,,\n", "csv", 2024)

    assert [item["column"] for item in raised.value.details] == ["P13", "FY2023-P01"]


def test_unreadable_file_rejected() -> None:
    with pytest.raises(InvalidInput) as raised:
        read_budget_file(b"not a workbook", "xlsx", 2024)

    assert raised.value.field == "file"


def test_xlsx_text_and_number_cells_exact() -> None:
    frame = pl.DataFrame({"line": ["tax", "fees"], "annual": ["1200.10", None], "P01": [None, 0.1],
                          "P02": [None, 2.0]})
    buffer = io.BytesIO()
    frame.write_excel(buffer)

    entered = read_budget_file(buffer.getvalue(), "xlsx", 2024)

    assert entered.lines[0].annual == Decimal("1200.10")
    assert entered.lines[1].periods == {"FY2024-P01": Decimal("0.1"), "FY2024-P02": Decimal("2.0")}


def test_xlsx_number_cells_as_displayed() -> None:
    # Excel shows 15 significant digits: the double nearest 99999999.99 counts as 99999999.99, and
    # the formula result 0.1 + 0.2 (0.30000000000000004 as a double) counts as 0.3.
    frame = pl.DataFrame({"line": ["tax", "fees"], "annual": [99999999.99, 0.1 + 0.2]})
    buffer = io.BytesIO()
    frame.write_excel(buffer)

    entered = read_budget_file(buffer.getvalue(), "xlsx", 2024)

    assert [line.annual for line in entered.lines] == [Decimal("99999999.99"), Decimal("0.3")]


def test_xlsx_fraction_of_cent_rejected() -> None:
    frame = pl.DataFrame({"line": ["tax"], "annual": [12.345]})
    buffer = io.BytesIO()
    frame.write_excel(buffer)

    with pytest.raises(InvalidInput) as raised:
        read_budget_file(buffer.getvalue(), "xlsx", 2024)

    assert raised.value.details[0]["field"] == "rows[2].annual"


@pytest.mark.parametrize(("content_type", "filename", "kind"), [
    ("text/csv; charset=utf-8", None, "csv"),
    (XLSX_TYPE, None, "xlsx"),
    ("application/octet-stream", "plan.xlsx", "xlsx"),
    (None, "plan.CSV", "csv"),
])
def test_file_kind_detected(content_type: str | None, filename: str | None, kind: str) -> None:
    assert file_kind(content_type, filename) == kind


def test_unsupported_file_kind_rejected() -> None:
    with pytest.raises(InvalidInput) as raised:
        file_kind("application/pdf", "plan.pdf")

    assert raised.value.field == "file"


def test_semicolon_separated_csv_read() -> None:
    entered = read_budget_file(b"line;cost_centre;annual\ntax;north;1200.10\n", "csv", 2024)

    assert [(line.line, line.cost_centre, line.annual) for line in entered.lines] == [
        ("tax", "north", Decimal("1200.10"))]


def test_semicolon_csv_with_decimal_comma_rejected() -> None:
    with pytest.raises(InvalidInput) as raised:
        read_budget_file(b"line;annual\ntax;1200,10\n", "csv", 2024)

    assert raised.value.details[0]["field"] == "rows[2].annual"


def workbook(write_cells: Callable[[Any], None]) -> bytes:
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer, {"in_memory": True}) as book:
        write_cells(book.add_worksheet())
    return buffer.getvalue()


def test_xlsx_error_cell_rejected() -> None:
    def cells(sheet: Any) -> None:
        sheet.write_row(0, 0, ["line", "P01", "P02"])
        sheet.write(1, 0, "tax")
        sheet.write_formula(1, 1, "=1/0", None, "#DIV/0!")
        sheet.write_number(1, 2, 20)

    # Read as an empty cell, the error would leave P01 at zero.
    with pytest.raises(InvalidInput) as raised:
        read_budget_file(workbook(cells), "xlsx", 2024)

    assert raised.value.details[0]["field"] == "rows[2].B"
    assert "#DIV/0!" in raised.value.details[0]["message"]


def test_xlsx_formula_without_computed_value_rejected() -> None:
    def cells(sheet: Any) -> None:
        sheet.write_row(0, 0, ["line", "annual"])
        sheet.write(1, 0, "tax")
        sheet.write_formula(1, 1, "=100*12")

    # The writer stored 0 for the formula and asked Excel to recalculate on opening, so 0 is not 1200.
    with pytest.raises(InvalidInput) as raised:
        read_budget_file(workbook(cells), "xlsx", 2024)

    assert raised.value.details[0]["field"] == "rows[2].B"
    assert "recalculate" in raised.value.details[0]["message"]


def test_xlsx_empty_first_sheet_named() -> None:
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer, {"in_memory": True}) as book:
        book.add_worksheet("Notes")
        book.add_worksheet("Budget").write_row(0, 0, ["line", "annual"])

    with pytest.raises(InvalidInput) as raised:
        read_budget_file(buffer.getvalue(), "xlsx", 2024)

    assert str(raised.value).startswith("file: the first sheet of the workbook is empty")


def test_xlsx_formula_with_stored_result_read() -> None:
    def cells(sheet: Any) -> None:
        sheet.write_row(0, 0, ["line", "annual", "P01", "P02"])
        sheet.write(1, 0, "tax")
        sheet.write_formula(1, 1, "=C2+D2", None, 30)
        sheet.write_row(1, 2, [10, 20])

    # Excel stores each formula's result and no request to recalculate; the writer's request is removed here.
    source = zipfile.ZipFile(io.BytesIO(workbook(cells)))
    saved = io.BytesIO()
    with zipfile.ZipFile(saved, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            target.writestr(item, content.replace(b' fullCalcOnLoad="1"', b"") if item.filename == "xl/workbook.xml"
                            else content)

    entered = read_budget_file(saved.getvalue(), "xlsx", 2024)

    assert entered.lines[0].annual == Decimal(30)
