import pytest

from metaconf.config.loader import LoadError, Span, load_file, load_text


def test_positions_of_keys_and_values():
    doc = load_text("budget:\n  walltime: 10m\n  cores: 2\nlist:\n  - a\n  - b\n")
    assert doc.data == {"budget": {"walltime": "10m", "cores": 2}, "list": ["a", "b"]}
    assert doc.key_spans[("budget", "cores")] == Span(3, 3, 3, 8)
    assert doc.value_spans[("budget", "cores")] == Span(3, 10, 3, 11)
    assert doc.value_spans[("list", 1)].line == 6
    assert doc.span(("budget", "missing", "deeper")) == doc.span(("budget",))


def test_duplicate_keys_are_recorded_not_silently_dropped():
    doc = load_text("a: 1\na: 2\n")
    assert doc.data == {"a": 2}
    assert [(d.first.line, d.again.line) for d in doc.duplicates] == [(1, 2)]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "MC002"),
        ("# only a comment\n", "MC002"),
        ("a: [1\n", "MC001"),
        ("a: 1\n---\nb: 2\n", "MC001"),
        ("a: !!python/object/apply:os.system [echo pwned]\n", "MC004"),
        ("a: !!python/name:os.system\n", "MC004"),
        ("a: !custom 3\n", "MC004"),
    ],
)
def test_bad_documents(text, code):
    with pytest.raises(LoadError) as info:
        load_text(text)
    assert info.value.code == code


def test_alias_bomb_is_bounded():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    with pytest.raises(LoadError) as info:
        load_text("\n".join(lines) + "\n")
    assert info.value.code == "MC005"


def test_merge_keys_work():
    doc = load_text("base: &b {cores: 2}\nbudget:\n  <<: *b\n  walltime: 1m\n")
    assert doc.data["budget"] == {"cores": 2, "walltime": "1m"}


def test_non_utf8_file_reports_position(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_bytes(b"a: 1\nb: caf\xe9\n")
    with pytest.raises(LoadError) as info:
        load_file(path)
    assert info.value.code == "MC003"
    assert (info.value.span.line, info.value.span.col) == (2, 7)


def test_directory_and_missing_file(tmp_path):
    for path in (tmp_path, tmp_path / "nope.yaml"):
        with pytest.raises(LoadError) as info:
            load_file(path)
        assert info.value.code == "MC003"


def test_suppression_comments():
    doc = load_text("a: 1  # metaconf: ignore[MC301, MC4]\n# metaconf: ignore[MC101]\nb: 2\n")
    assert doc.is_suppressed("MC301", 1) and doc.is_suppressed("MC402", 1)
    assert doc.is_suppressed("MC101", 3) and not doc.is_suppressed("MC101", 1)
