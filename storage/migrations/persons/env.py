from storage.migrations.env_common import run
from storage.records_schema import persons_metadata

run(persons_metadata)
