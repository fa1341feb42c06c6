"""Checks of an .xlsx workbook's first sheet that the cell values alone cannot show.

The reader of the cell values returns an error cell (``#DIV/0!``) as an empty cell, and a formula
cell as the value that the file stores for it. Files written by libraries often store 0, or no
value at all, for each formula and ask Excel to recalculate the workbook on opening, so that
stored value is not the formula's result. Both would enter a wrong amount without a word, so
they are found here in the sheet's XML (ECMA-376 part 1, SpreadsheetML) and rejected.
"""

import io
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO
from xml.etree import ElementTree

_CELL_REFERENCE = re.compile(r"([A-Z]{1,3})([0-9]+)")


@dataclass(frozen=True)
class SheetCell:
    """A cell whose stored value cannot be used, named by its reference such as ``B2``."""

    reference: str
    message: str

    @property
    def row(self) -> int:
        match = _CELL_REFERENCE.fullmatch(self.reference)
        return int(match.group(2)) if match else 0

    @property
    def column(self) -> str:
        match = _CELL_REFERENCE.fullmatch(self.reference)
        return match.group(1) if match else self.reference


@dataclass(frozen=True)
class SheetCheck:
    """The outcome of scanning the first sheet: whether it contains any value, and its unusable cells."""

    has_values: bool
    unusable: list[SheetCell]


def check_first_sheet(content: bytes, max_rows: int) -> SheetCheck | None:
    """Scan the first ``max_rows`` rows with values of the workbook's first sheet.

    Return None when the file is no readable .xlsx package. A sheet with more rows is too long
    for a budget anyway, so the scan stops there instead of spending seconds on the rest.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as package:
            workbook = ElementTree.fromstring(package.read("xl/workbook.xml"))
            sheet_path = _first_sheet_path(package, workbook)
            if sheet_path is None:
                return None
            recalculate_on_load = any(_local(element.tag) == "calcPr" and element.get("fullCalcOnLoad") in ("1", "true")
                                      for element in workbook.iter())
            with package.open(sheet_path) as sheet:
                return _scan(sheet, recalculate_on_load, max_rows)
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError):
        return None


def _first_sheet_path(package: zipfile.ZipFile, workbook: ElementTree.Element) -> str | None:
    sheets = [element for element in workbook.iter() if _local(element.tag) == "sheet"]
    if not sheets:
        return None
    relation_id = next((value for name, value in sheets[0].attrib.items() if _local(name) == "id"), None)
    relations = ElementTree.fromstring(package.read("xl/_rels/workbook.xml.rels"))
    for relation in relations.iter():
        if _local(relation.tag) == "Relationship" and relation.get("Id") == relation_id:
            target = relation.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
    return None


def _scan(sheet: IO[bytes], recalculate_on_load: bool, max_rows: int) -> SheetCheck:
    rows_with_values = 0
    unusable: list[SheetCell] = []
    for row in _rows(sheet):
        has_values = False
        for cell in (child for child in row if _local(child.tag) == "c"):
            children = {_local(child.tag): child for child in cell}
            stored = children.get("v")
            has_values = has_values or stored is not None or "is" in children
            problem = _problem(cell.get("t"), stored, "f" in children, recalculate_on_load)
            if problem is not None:
                unusable.append(SheetCell(cell.get("r", "?"), problem))
        row.clear()
        rows_with_values += has_values
        if rows_with_values > max_rows:
            break
    return SheetCheck(rows_with_values > 0, unusable)


def _rows(sheet: IO[bytes]) -> Iterator[ElementTree.Element]:
    for _, element in ElementTree.iterparse(sheet, events=("end",)):
        if _local(element.tag) == "row":
            yield element


def _problem(cell_type: str | None, stored: ElementTree.Element | None, is_formula: bool,
             recalculate_on_load: bool) -> str | None:
    if cell_type == "e":
        error = stored.text if stored is not None else "an error"
        return f"holds the error {error}; correct the formula or type the amount"
    if is_formula and recalculate_on_load:
        return ("is a formula whose result the file does not store, because the workbook asks Excel to recalculate "
                "it on opening; open and save the file in Excel, or paste the values in place of the formulas")
    if is_formula and stored is None:
        return ("is a formula without a stored result; open and save the file in Excel, or paste the values in place "
                "of the formulas")
    return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
