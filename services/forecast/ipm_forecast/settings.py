from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from ipm_common.settings import ServiceSettings


class ForecastSettings(ServiceSettings):
    """Settings of the forecast service, read from ``IPM_FORECAST_*`` variables."""

    model_config = SettingsConfigDict(env_prefix="IPM_FORECAST_", env_file=".env", extra="ignore")

    database_url: SecretStr = SecretStr("sqlite+aiosqlite:///./data/forecast.db")
    port: int = 8103
    horizon: int = Field(18, ge=18, le=24, description="rolling forecast horizon in periods")
    fx_base_currency: str = "USD"
