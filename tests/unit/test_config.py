"""mrg.yaml: one clear error naming the key and the rule; secrets never accepted in the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import ConfigError, embedded_default, load_config, parse_config


def test_valid_config_with_env_referenced_credentials(tmp_path: Path) -> None:
    (tmp_path / "mrg.yaml").write_text(
        "data_dir: state\n"
        "registries:\n"
        "  prod-mlflow:\n"
        "    kind: mlflow\n"
        "    tracking_uri: http://mlflow.internal:5000\n"
        "    max_concurrency: 4\n"
    )
    config = load_config(tmp_path / "mrg.yaml")
    assert config.registries["prod-mlflow"].settings() == {"tracking_uri": "http://mlflow.internal:5000"}
    assert config.data_dir == str((tmp_path / "state").resolve())


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"registries": {"x": {"kind": "oracle"}}}, "registries.x.kind"),
        ({"registries": {"Bad Name": {"kind": "mlflow", "tracking_uri": "x"}}}, "registries"),
        ({"registries": {"x": {"kind": "mlflow"}}}, "registries.x.tracking_uri: Field required"),
        ({"registries": {"x": {"kind": "mlflow", "tracking_uri": "x", "colour": "red"}}}, "registries.x.colour"),
        ({"server": {"port": 70000}}, "server.port"),
        ({"unknown": 1}, "unknown"),
        ({"registries": {"x": {"kind": "mlflow", "tracking_uri": "x", "max_concurrency": 0}}}, "max_concurrency"),
    ],
)
def test_errors_name_the_key(raw: dict, expected: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigError) as info:
        parse_config(raw)
    message = str(info.value)
    assert expected in message
    assert "\n" not in message


@pytest.mark.parametrize("key", ["token", "password", "aws_secret_access_key", "api_key", "client_secret"])
def test_literal_secrets_are_refused(key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"registries": {"x": {"kind": "mlflow", "tracking_uri": "u", key: "s3cr3t-value"}}})
    assert f"registries.x.{key}" in str(info.value)
    assert "s3cr3t-value" not in str(info.value)


def test_invalid_yaml_gives_a_line_number(tmp_path: Path) -> None:
    path = tmp_path / "mrg.yaml"
    path.write_text("registries:\n  x: [unclosed\n")
    with pytest.raises(ConfigError, match="line"):
        load_config(path)


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "absent.yaml")


def test_embedded_default_is_one_local_mlflow(tmp_path: Path) -> None:
    config = embedded_default(str(tmp_path / "data"))
    assert list(config.registries) == ["local"]
    assert config.registries["local"].kind.value == "mlflow"
    assert str(tmp_path / "data") in config.resolved_database_url()


def test_database_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MRG_DATABASE_URL", "postgresql://u@h/db")
    assert embedded_default().resolved_database_url() == "postgresql://u@h/db"


def test_secrets_by_environment_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    config = parse_config({"registries": {"x": {"kind": "mlflow", "tracking_uri_env": "MRG_TEST_TRACKING"}}})
    monkeypatch.setenv("MRG_TEST_TRACKING", "http://mlflow:5000")
    assert config.registries["x"].settings() == {"tracking_uri": "http://mlflow:5000"}
    monkeypatch.delenv("MRG_TEST_TRACKING")
    from mapping.errors import InvalidInput

    with pytest.raises(InvalidInput, match="MRG_TEST_TRACKING is not set"):
        config.registries["x"].settings()


def test_the_readme_config_example_is_valid(tmp_path: Path) -> None:
    import re

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    example = re.search(r"```yaml\n(.*?)```", readme, re.S)
    assert example, "README.md lost its config example"
    (tmp_path / "mrg.yaml").write_text(example.group(1))
    config = load_config(tmp_path / "mrg.yaml")
    assert {r.kind.value for r in config.registries.values()} == {"mlflow", "sagemaker", "hf"}
