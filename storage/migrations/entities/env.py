from storage.migrations.env_common import run
from storage.records_schema import entities_metadata

run(entities_metadata)
