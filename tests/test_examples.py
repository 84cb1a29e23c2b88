"""The example files the README and the demo point to stay valid."""

import json
from pathlib import Path

from node.messages import problems
from translation import default_catalog

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_the_example_alert_fits_the_catalog():
    message = json.loads((EXAMPLES / "alert-seizure.json").read_text(encoding="utf-8"))
    assert message["type"] == "alert"
    assert problems(message["payload"], default_catalog()) == []
