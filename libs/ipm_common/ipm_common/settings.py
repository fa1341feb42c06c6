"""Settings shared by every service; each service subclasses ``ServiceSettings`` with its prefix.

Values come from the environment, then a ``.env`` file, then the defaults, which let a service
run locally on SQLite with no set-up.
"""

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    kafka_bootstrap: str = Field(
        "127.0.0.1:9092", validation_alias=AliasChoices("IPM_KAFKA_BOOTSTRAP"),
        description="Kafka bootstrap servers, host:port[,host:port]",
    )
    topic_partitions: int = Field(4, ge=1, le=256, validation_alias=AliasChoices("IPM_TOPIC_PARTITIONS"))
    kafka_group_join_timeout: float = Field(30.0, gt=0, validation_alias=AliasChoices("IPM_GROUP_JOIN_TIMEOUT"))
    log_level: str = Field("INFO", validation_alias=AliasChoices("IPM_LOG_LEVEL"))
    max_body_bytes: int = Field(8 * 1024 * 1024, ge=1024, validation_alias=AliasChoices("IPM_MAX_BODY_BYTES"),
                                description="largest request body accepted, in bytes")
    max_concurrent_requests: int = Field(64, ge=1, validation_alias=AliasChoices("IPM_MAX_CONCURRENT_REQUESTS"),
                                         description="requests served at once; more get 503 with Retry-After")
    database_url: SecretStr
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)

    @field_validator("kafka_bootstrap")
    @classmethod
    def _check_bootstrap(cls, value: str) -> str:
        servers = [server.strip() for server in value.split(",") if server.strip()]
        if not servers or not all(_is_host_port(server) for server in servers):
            raise ValueError(f"{value!r} is invalid; expected host:port[,host:port] with ports 1-65535")
        return ",".join(servers)

    @field_validator("port")
    @classmethod
    def _check_port(cls, value: int) -> int:
        if not 1 <= value <= 65535:
            raise ValueError(f"{value} is not a TCP port; use 1-65535")
        return value

    @field_validator("log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError(f"IPM_LOG_LEVEL={value!r} is invalid; use DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @field_validator("database_url")
    @classmethod
    def _check_database(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value()
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("the database URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @classmethod
    def environment_name(cls, field: str) -> str:
        """Return the environment variable that sets ``field``."""
        alias = cls.model_fields[field].validation_alias
        if isinstance(alias, AliasChoices):
            return str(alias.choices[0])
        return f"{cls.model_config.get('env_prefix', '')}{field}".upper()

    @property
    def masked_database_url(self) -> str:
        """Render the database URL without its password, for logs."""
        url = self.database_url.get_secret_value()
        scheme, _, rest = url.partition("://")
        credentials, at, host = rest.rpartition("@")
        if not at:
            return url
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"


def _is_host_port(server: str) -> bool:
    host, _, port = server.rpartition(":")
    return bool(host) and port.isascii() and port.isdigit() and 1 <= int(port) <= 65535
