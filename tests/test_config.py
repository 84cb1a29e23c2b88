"""Configuration: every key documented, and bad files stop start-up with a clear error."""

from pathlib import Path

import pytest

from node.config import SCHEMA, ConfigError, example, load, render, validate

ROOT = Path(__file__).resolve().parents[1]
GOOD = {"node": {"id": "es-aduana", "name": "Aduanas", "country": "ES",
                 "languages": ["es"], "url": "http://127.0.0.1:8470"}}


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_example_config_documents_every_key_with_its_default():
    assert (ROOT / "config.example.toml").read_text(encoding="utf-8") == example()
    text = example()
    for section, keys in SCHEMA.items():
        assert f"[{section}]" in text
        for name in keys:
            assert f"\n{name} = " in text


def test_the_example_config_is_valid(tmp_path):
    config = load(write(tmp_path, example()))
    assert config["node"]["id"] == "es-aduana"
    assert config["delivery"]["give_up_days"] == 7


def test_defaults_fill_in_left_out_keys(tmp_path):
    config = load(write(tmp_path, render(validate(GOOD, tmp_path / "c"))))
    assert config["delivery"]["batch_size"] == 200
    assert config.listen == ("127.0.0.1", 8470)


def test_unknown_key_is_named_with_the_file(tmp_path):
    path = write(tmp_path, example().replace("batch_size =", "batchsize ="))
    with pytest.raises(ConfigError, match=r"config\.toml: unknown key delivery\.batchsize"):
        load(path)


def test_unknown_section_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown section \[deliveries\]"):
        load(write(tmp_path, example() + "\n[deliveries]\nx = 1\n"))


def test_wrong_type_names_key_and_expectation(tmp_path):
    path = write(tmp_path, example().replace("batch_size = 200", 'batch_size = "fifty"'))
    with pytest.raises(ConfigError, match=r"delivery\.batch_size: expected an integer.*'fifty'"):
        load(path)


def test_bad_value_is_refused(tmp_path):
    path = write(tmp_path, example().replace('country = "ES"', 'country = "Spain"'))
    with pytest.raises(ConfigError, match=r"node\.country: 'Spain' is not valid"):
        load(path)


def test_missing_required_key_is_named(tmp_path):
    path = write(tmp_path, example().replace('id = "es-aduana"\n', ""))
    with pytest.raises(ConfigError, match=r"node\.id is required"):
        load(path)


def test_unreadable_or_broken_files_give_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match="no configuration here"):
        load(tmp_path)
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(write(tmp_path, "[node\nid="))
    (tmp_path / "config.toml").write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match="cannot be read"):
        load(tmp_path)
