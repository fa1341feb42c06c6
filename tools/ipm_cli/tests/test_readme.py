"""The README's event catalogue must match the catalogue in code."""

from pathlib import Path

from ipm_cli.catalogue import catalogue_table

README = Path(__file__).resolve().parents[3] / "README.md"


def test_readme_lists_current_event_catalogue() -> None:
    assert catalogue_table() in README.read_text(encoding="utf-8")
