from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from ipm_common.settings import ServiceSettings


class StrategySettings(ServiceSettings):
    """Settings of the strategy service, read from ``IPM_STRATEGY_*`` variables."""

    model_config = SettingsConfigDict(env_prefix="IPM_STRATEGY_", env_file=".env", extra="ignore")

    database_url: SecretStr = SecretStr("sqlite+aiosqlite:///./data/strategy.db")
    port: int = 8101
    data_dir: Path = Field(Path("examples/data"), validation_alias=AliasChoices("IPM_DATA_DIR"),
                           description="folder from which reported statements may be imported by relative path")
