import pytest
from pydantic import ValidationError

from ipm_common.settings import ServiceSettings

SQLITE_URL = "sqlite+aiosqlite:///ipm.db"


def _settings(**values: object) -> ServiceSettings:
    """Build settings from ``values`` without reading a .env file.

    A value passed here overrides the environment variable of the same setting.
    """
    return ServiceSettings(_env_file=None, **values)  # type: ignore[call-arg]


def _error_message(**values: object) -> str:
    with pytest.raises(ValidationError) as caught:
        _settings(**values)
    return caught.value.errors()[0]["msg"]


def test_bootstrap_list_is_normalised() -> None:
    settings = _settings(database_url=SQLITE_URL, IPM_KAFKA_BOOTSTRAP=" 10.0.0.1:9092, ,10.0.0.2:9092 ")

    assert settings.kafka_bootstrap == "10.0.0.1:9092,10.0.0.2:9092"


@pytest.mark.parametrize("bootstrap", ["", "kafka", "kafka:9092,broker2", "host:", "127.0.0.1:abc", "h:70000"])
def test_bootstrap_without_port_rejected(bootstrap: str) -> None:
    message = _error_message(database_url=SQLITE_URL, IPM_KAFKA_BOOTSTRAP=bootstrap)

    assert "expected host:port" in message


def test_environment_name_of_aliased_field() -> None:
    assert ServiceSettings.environment_name("kafka_bootstrap") == "IPM_KAFKA_BOOTSTRAP"


def test_log_level_is_upper_cased() -> None:
    assert _settings(database_url=SQLITE_URL, IPM_LOG_LEVEL="debug").log_level == "DEBUG"


def test_unknown_log_level_rejected() -> None:
    assert "IPM_LOG_LEVEL" in _error_message(database_url=SQLITE_URL, IPM_LOG_LEVEL="verbose")


@pytest.mark.parametrize("url", ["sqlite:///ipm.db", "postgresql://postgres@db/ipm", "mysql+aiomysql://db/ipm"])
def test_synchronous_database_url_rejected(url: str) -> None:
    assert "sqlite+aiosqlite://" in _error_message(database_url=url)


def test_masked_url_hides_password() -> None:
    settings = _settings(database_url="postgresql+asyncpg://ipm:s3cr@t@db.internal:5432/forecast")

    assert settings.masked_database_url == "postgresql+asyncpg://ipm:***@db.internal:5432/forecast"


def test_masked_url_without_credentials_unchanged() -> None:
    assert _settings(database_url=SQLITE_URL).masked_database_url == SQLITE_URL


def test_database_url_hidden_in_repr() -> None:
    settings = _settings(database_url="postgresql+asyncpg://ipm:s3cret@db/forecast")

    assert "s3cret" not in repr(settings)


def test_partitions_must_be_positive() -> None:
    with pytest.raises(ValidationError):
        _settings(database_url=SQLITE_URL, IPM_TOPIC_PARTITIONS=0)
