"""Render the event catalogue as the Markdown table that the README carries."""

from ipm_common.events import CATALOGUE, Topics


def catalogue_table() -> str:
    """Return one Markdown row per event type: type, topic, partition key, schema version, meaning."""
    rows = ["| event type | topic | partition key | schema | meaning |", "|---|---|---|---|---|"]
    for spec in CATALOGUE.values():
        # The key's fields are joined by "|" on the wire; a Markdown cell cannot contain that character.
        key = " + ".join(f"`{field}`" for field in spec.key.split("|"))
        rows.append(f"| `{spec.type}` | `{spec.topic}` | {key} | {spec.schema_version} | {spec.description} |")
    rows.append(f"| ERP posting batch (plain JSON, the body of `POST /v1/actuals`) | `{Topics.ERP_POSTINGS}` | "
                "entity id (recommended) | — | An ERP's batch of ledger postings, consumed by forecast. |")
    return "\n".join(rows)
