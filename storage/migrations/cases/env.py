from storage.migrations.env_common import run
from storage.records_schema import cases_metadata

run(cases_metadata)
