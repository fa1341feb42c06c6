from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from ipm_common.settings import ServiceSettings


class StrategySettings(ServiceSettings):
    """Settings of the strategy service, read from ``IPM_STRATEGY_*`` variables."""

    model_config = SettingsConfigDict(env_prefix="IPM_STRATEGY_", env_file=".env", extra="ignore")

    database_url: SecretStr = SecretStr("sqlite+aiosqlite:///./data/strategy.db")
    port: int = 8101
