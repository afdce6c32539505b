"""Where ``kreg`` finds its server and token: flags, then environment, then a config file.

Precedence, per setting: a flag (``--url``, ``--token``, ``-n``) > the environment
(``KREG_URL``, ``KREG_TOKEN``, ``KREG_NAMESPACE``) > the config file > the default
(``http://127.0.0.1:8080/graphql``, no token, namespace ``default``). The config file is YAML
with the keys ``url``, ``token`` and ``namespace``, at ``$KREG_CONFIG`` or else
``$XDG_CONFIG_HOME/kreg/config.yaml`` (``~/.config/kreg/config.yaml``). A missing file is
no error; an unreadable or malformed one is (:class:`ConfigError`, one line).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_URL = "http://127.0.0.1:8080/graphql"
DEFAULT_NAMESPACE = "default"
KEYS = ("url", "token", "namespace")


class ConfigError(Exception):
    """The config file exists but cannot be used."""


@dataclass(frozen=True)
class Settings:
    url: str
    token: str | None
    namespace: str


def config_path(environ: Mapping[str, str]) -> Path:
    if environ.get("KREG_CONFIG"):
        return Path(environ["KREG_CONFIG"]).expanduser()
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "kreg" / "config.yaml"


def read_file(path: Path) -> dict[str, str]:
    """The file's settings (empty when it does not exist)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror}") from error
    try:
        document: Any = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"config file {path} is not valid YAML") from error
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError(f"config file {path} must be a mapping of {', '.join(KEYS)}")
    unknown = sorted(str(key) for key in document if key not in KEYS)
    if unknown:
        raise ConfigError(f"config file {path}: unknown key(s) {', '.join(unknown)}")
    return {str(key): str(value) for key, value in document.items() if value is not None}


def resolve(
    *,
    url: str | None = None,
    token: str | None = None,
    namespace: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """The settings by precedence (see the module doc)."""
    env = os.environ if environ is None else environ
    from_file = read_file(config_path(env))

    def pick(flag: str | None, variable: str, key: str) -> str | None:
        return flag or env.get(variable) or from_file.get(key)

    return Settings(
        url=pick(url, "KREG_URL", "url") or DEFAULT_URL,
        token=pick(token, "KREG_TOKEN", "token"),
        namespace=pick(namespace, "KREG_NAMESPACE", "namespace") or DEFAULT_NAMESPACE,
    )
