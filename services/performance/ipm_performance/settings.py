from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from ipm_common.settings import ServiceSettings


class PerformanceSettings(ServiceSettings):
    """Settings of the performance service, read from ``IPM_PERFORMANCE_*`` variables."""

    model_config = SettingsConfigDict(env_prefix="IPM_PERFORMANCE_", env_file=".env", extra="ignore")

    database_url: SecretStr = SecretStr("sqlite+aiosqlite:///./data/performance.db")
    port: int = 8104
    fx_base_currency: str = Field("USD", pattern="^[A-Z]{3}$",
                                  description="currency through which report exchange rates are triangulated")
