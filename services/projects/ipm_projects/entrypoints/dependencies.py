"""FastAPI dependencies and path parameters shared by the projects API modules."""

import uuid
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import Depends, Header, Path

from ipm_common.runtime import get_database
from ipm_common.storage import Database
from ipm_projects.entrypoints.schemas import IDENTIFIER_PATTERN

DatabaseDependency = Annotated[Database, Depends(get_database)]

ProjectId = Annotated[str, Path(min_length=1, max_length=64, pattern=IDENTIFIER_PATTERN)]


def correlation_id(x_correlation_id: Annotated[str | None, Header(max_length=128)] = None) -> str:
    """Take the caller's X-Correlation-ID, or start a new correlation for this request."""
    return x_correlation_id or str(uuid.uuid4())


CorrelationDependency = Annotated[str, Depends(correlation_id)]


def today() -> date:
    return datetime.now(UTC).date()
