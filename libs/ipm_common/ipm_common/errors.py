"""The one exception tree of IPM.

Every error a service raises on purpose derives from ``IPMError``. The HTTP boundary maps each
class to a status code in one table (``ipm_common.http.STATUS_BY_ERROR``), and the consumer loop
maps ``PoisonMessage`` subclasses to the dead-letter topic and ``TransientError`` to a retry.
"""


class IPMError(Exception):
    """Root of every error that IPM raises on purpose."""


class InvalidInput(IPMError):
    """A value from outside fails validation; the message names the field and the fix.

    ``details`` lists one ``{"field", "message", "type"}`` item per invalid value when a
    request had several, such as the invalid lines of a posting batch.
    """

    def __init__(self, message: str, *, field: str | None = None,
                 details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.details = details or []


class NotFound(IPMError):
    """A requested record does not exist."""


class Conflict(IPMError):
    """The request contradicts stored state, such as a posting into a closed period."""

    def __init__(self, message: str, *, reason: str = "conflict",
                 details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.details = details or []


class PeriodClosed(Conflict):
    """A posting falls into a closed period."""

    def __init__(self, message: str, *, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message, reason="period_closed", details=details)


class MissingRate(InvalidInput):
    """No exchange rate exists for a conversion; IPM never assumes 1:1."""


class PoisonMessage(IPMError):
    """A consumed message that can never be processed and belongs on the dead-letter topic."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class TransientError(IPMError):
    """A failure that may pass on retry, such as a database or broker outage."""


class ConfigurationError(IPMError):
    """A setting is missing or unsafe; the message names the environment variable."""
