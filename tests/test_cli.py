"""The command line: help everywhere, one-line errors, nothing changed by bad input."""

from __future__ import annotations

import argparse
import json
import stat

import pytest

from node.cli import build_parser, main
from node.messages import simple_alert


def all_commands(parser: argparse.ArgumentParser, prefix=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*prefix, name)
                yield from all_commands(sub, (*prefix, name))


@pytest.mark.parametrize("command", list(all_commands(build_parser())), ids=" ".join)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as done:
        main([*command, "--help"])
    assert done.value.code == 0
    assert "usage: ncen-node" in capsys.readouterr().out


def init(tmp_path, *extra):
    return main(["init", "--data", str(tmp_path / "n"), "--id", "es-aduana", "--name", "Aduanas",
                 "--country", "ES", "--language", "es", "--listen", "127.0.0.1:18999", *extra])


def test_init_creates_private_keys_readable_by_the_owner_only(tmp_path, capsys):
    assert init(tmp_path) == 0
    out = capsys.readouterr().out
    assert "Fingerprint:" in out
    keys = list((tmp_path / "n" / "keys").iterdir())
    assert len(keys) == 1
    assert stat.S_IMODE(keys[0].stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "n" / "api-token").stat().st_mode) == 0o600
    secret = keys[0].read_bytes()
    assert secret.hex() not in out and secret not in (tmp_path / "n" / "config.toml").read_bytes()


def test_init_refuses_a_folder_that_already_holds_a_node(tmp_path, capsys):
    assert init(tmp_path) == 0
    before = (tmp_path / "n" / "config.toml").read_bytes()
    assert init(tmp_path) == 2
    assert "already holds a node" in capsys.readouterr().err
    assert (tmp_path / "n" / "config.toml").read_bytes() == before


def test_init_refuses_a_bad_country_and_creates_nothing(tmp_path, capsys):
    assert main(["init", "--data", str(tmp_path / "n"), "--id", "es-aduana", "--name", "A",
                 "--country", "Spain", "--language", "es"]) == 2
    assert "node.country" in capsys.readouterr().err
    assert not (tmp_path / "n").exists()


def test_commands_on_a_folder_without_a_node_say_so(tmp_path, capsys):
    assert main(["peer", "list", "--data", str(tmp_path)]) == 2
    assert "run `ncen-node init` first" in capsys.readouterr().err


def test_keys_show_prints_the_fingerprint(tmp_path, capsys):
    init(tmp_path)
    created = capsys.readouterr().out.split("Fingerprint: ")[1].split()[0]
    assert main(["keys", "show", "--data", str(tmp_path / "n")]) == 0
    assert created in capsys.readouterr().out


def test_send_refuses_unknown_peers_and_bad_files_and_queues_nothing(tmp_path, capsys):
    init(tmp_path)
    data = str(tmp_path / "n")
    message = tmp_path / "m.json"
    message.write_text(json.dumps({"type": "alert", "payload": simple_alert("x", "en", alert_id="a-1")}))
    assert main(["send", "--data", data, "--to", "fr-douane", "--file", str(message)]) == 2
    assert "unknown peer 'fr-douane'" in capsys.readouterr().err
    message.write_text('{"payload": {"quantity": 12.5}}')
    assert main(["send", "--data", data, "--to", "fr-douane", "--file", str(message)]) == 2
    assert "write quantities as strings" in capsys.readouterr().err
    message.write_text("{not json")
    assert main(["send", "--data", data, "--to", "fr-douane", "--file", str(message)]) == 2
    assert "is not valid JSON" in capsys.readouterr().err
    assert main(["send", "--data", data, "--to", "fr-douane", "--file",
                 str(tmp_path / "missing.json")]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["outbox", "--data", data, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_peer_actions_on_unknown_peers_are_refused(tmp_path, capsys):
    init(tmp_path)
    assert main(["peer", "approve", "--data", str(tmp_path / "n"), "xx-nobody"]) == 2
    assert "unknown peer 'xx-nobody'" in capsys.readouterr().err


def test_the_audit_log_verifies_and_detects_tampering(tmp_path, capsys):
    import sqlite3

    init(tmp_path)
    data = str(tmp_path / "n")
    assert main(["audit", "verify", "--data", data]) == 0
    assert "intact: 1 entries" in capsys.readouterr().out
    with sqlite3.connect(tmp_path / "n" / "node.db") as db:
        db.execute("UPDATE audit_log SET actor = 'someone-else'")
    assert main(["audit", "verify", "--data", data]) == 1
    assert "BROKEN" in capsys.readouterr().out


def test_peer_request_to_an_unreachable_url_says_so(tmp_path, capsys):
    init(tmp_path)
    assert main(["peer", "request", "--data", str(tmp_path / "n"), "http://127.0.0.1:9"]) == 2
    assert "cannot reach http://127.0.0.1:9" in capsys.readouterr().err
    assert main(["peer", "list", "--data", str(tmp_path / "n"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
