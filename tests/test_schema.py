import json

from metaconf.config.schema import REGENERATE, committed_schema_path, generate_schema


def test_committed_schema_matches_the_model():
    committed = json.loads(committed_schema_path().read_text(encoding="utf-8"))
    assert committed == generate_schema(), f"schemas is out of date; regenerate it with `{REGENERATE}`"


def test_schema_has_id_and_version():
    schema = generate_schema()
    assert schema["$id"] == "urn:metaconf:schema:config:1"  # a name: no public site hosts it
    assert schema["version"] == 1
    assert schema["additionalProperties"] is False
