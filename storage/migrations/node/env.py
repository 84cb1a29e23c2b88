from storage.migrations.env_common import run
from storage.schema import node_metadata

run(node_metadata)
