from alembic import context

from ipm_common.migrations import run_online
from ipm_performance.adapters.tables import metadata

run_online(context.config.get_main_option("sqlalchemy.url") or "", metadata)
