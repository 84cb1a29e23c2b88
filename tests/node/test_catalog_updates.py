"""Catalog updates: only the catalog authority's signed update is installed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from node import catalogs
from node.messages import simple_alert
from protocol import TLP, MessageType, Reason
from translation.catalog import packaged_data_dir

LANGS = ("ar", "zh", "en", "fr", "pt", "ru", "es")


def catalog_v2(tmp_path: Path) -> Path:
    """The packaged catalog as version 2, with one more CAP urgency code."""
    folder = tmp_path / "catalog-v2"
    shutil.copytree(Path(str(packaged_data_dir())), folder)
    for name in ("catalog.json", "field_labels.json"):
        data = json.loads((folder / name).read_text(encoding="utf-8"))
        data["catalog_version"] = 2
        (folder / name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    urgency = json.loads((folder / "lists" / "cap_urgency.json").read_text(encoding="utf-8"))
    urgency["codes"]["Imminent"] = {lang: f"Imminent ({lang})" for lang in LANGS}
    (folder / "lists" / "cap_urgency.json").write_text(json.dumps(urgency, ensure_ascii=False),
                                                       encoding="utf-8")
    return folder


@pytest.fixture(autouse=True)
def room_for_a_catalog(node):
    """A whole catalog is larger than the door suite's small request limit."""
    node.services.config["server"]["max_body_bytes"] = 8 << 20


def update_from(peer, folder: Path):
    return peer.envelope(catalogs.package(folder), type=MessageType.CATALOG_UPDATE, tlp=TLP.CLEAR)


async def test_a_catalog_update_from_a_node_that_is_not_the_authority_is_refused(
    node, peer, tmp_path
):
    answer = await peer.send(update_from(peer, catalog_v2(tmp_path)))
    await node.assert_refused(answer, Reason.UNTRUSTED_SENDER)
    assert node.services.catalog.version == 1
    assert not (node.data_dir / "catalog").exists()
    await node.assert_sentinel_accepted(peer)


async def test_the_authoritys_catalog_update_is_installed_and_its_new_codes_are_known(
    node, peer, tmp_path
):
    node.services.config["catalog"]["authority"] = peer.node_id
    env = update_from(peer, catalog_v2(tmp_path))
    answer = await peer.send(env)
    assert answer.outcomes == [("accepted", "")], answer.body[:300]
    await node.assert_newly_stored((peer.node_id, env.id))
    assert node.services.catalog.version == 2
    assert catalogs.newest(node.data_dir).version == 2  # kept for the next start
    alert = simple_alert("Nuevo código", "es", alert_id="alert-v2", catalog_version=2)
    alert["record"]["fields"]["urgency"] = "Imminent"
    sent = peer.envelope(alert)
    assert (await peer.send(sent)).outcomes == [("accepted", "")]
    status, inbox = await node.api("GET", "/api/v1/inbox?lang=fr")
    rendered = next(m for m in inbox if m["id"] == sent.id)["rendered"]["alert"]
    urgency = next(f for f in rendered["fields"] if f["name"] == "urgency")["values"][0]
    assert urgency["label"]["text"] == "Imminent (fr)" and urgency["unknown"] is False


@pytest.mark.parametrize("breakage", ["missing labels file", "version not in the files",
                                      "older than ours"])
async def test_a_broken_or_old_catalog_update_is_refused_and_nothing_is_installed(
    node, peer, tmp_path, breakage
):
    node.services.config["catalog"]["authority"] = peer.node_id
    payload = catalogs.package(catalog_v2(tmp_path))
    expected = Reason.BAD_PAYLOAD
    if breakage == "missing labels file":
        del payload["files"]["field_labels.json"]
    elif breakage == "version not in the files":
        payload["version"] = 3
    else:
        payload["version"] = 0
        expected = Reason.BAD_STATE
    env = peer.envelope(payload, type=MessageType.CATALOG_UPDATE, tlp=TLP.CLEAR)
    await node.assert_refused(await peer.send(env), expected)
    assert node.services.catalog.version == 1
    assert not list((node.data_dir / "catalog").glob("v*"))
    await node.assert_sentinel_accepted(peer)
