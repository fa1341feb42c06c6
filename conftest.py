# Shared fixtures (real broker, fresh PostgreSQL databases) for every test folder.
pytest_plugins = ["ipm_common.testing"]
