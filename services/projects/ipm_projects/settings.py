from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from ipm_common.settings import ServiceSettings


class ProjectsSettings(ServiceSettings):
    """Settings of the projects service, read from ``IPM_PROJECTS_*`` variables."""

    model_config = SettingsConfigDict(env_prefix="IPM_PROJECTS_", env_file=".env", extra="ignore")

    database_url: SecretStr = SecretStr("sqlite+aiosqlite:///./data/projects.db")
    port: int = 8102
