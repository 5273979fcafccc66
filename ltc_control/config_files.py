"""Reading YAML config files: one loader for every kind (robot, safety, training, rollout plan).

- `read_mapping(path, what, error)`: the file's top-level mapping. Errors name the file by its
  absolute path; a missing file of the old flat config/ layout is named with its new place.
- `FieldReader(what, error).values(cls, data, key)`: the values of a dataclass's fields from a
  mapping, converted to the types of the fields' defaults (bool, int, float, tuple of numbers,
  str); an unknown key or a wrongly typed value is an `error` naming the dotted key.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, NoReturn

import yaml

from ltc_control.errors import ConfigError
from ltc_control.resources import old_layout_hint


def read_mapping(
    path: str | Path, what: str, error: type[ConfigError] = ConfigError
) -> dict[str, Any]:
    """The YAML file's top-level mapping (an empty file is an empty mapping)."""
    path = Path(path).expanduser().absolute()
    if not path.is_file():
        raise error(f"{what} {path} not found{old_layout_hint(path)}")
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise error(f"{path}: malformed YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise error(f"{path}: {what} must be a mapping, got {type(data).__name__}")
    return data


class FieldReader:
    """Typed values for a dataclass from a plain mapping; errors say `<what> '<key>' ...`."""

    def __init__(self, what: str, error: type[ConfigError] = ConfigError) -> None:
        self.what, self.error = what, error

    def fail(self, key: str, message: str) -> NoReturn:
        raise self.error(f"{self.what} '{key}' {message}")

    def check(self, ok: bool, key: str, message: str) -> None:
        if not ok:
            self.fail(key, message)

    def values(self, cls: type, data: Any, key: str = "") -> dict[str, Any]:
        """`data`'s entries converted to the types of `cls`'s field defaults (no defaults added).

        Fields without a plain default (default_factory) are passed through unchanged.
        """
        self.check(isinstance(data, dict), key or "config", "must be a mapping")
        fields = {f.name: f.default for f in dataclasses.fields(cls)}
        prefix = f"{key}." if key else ""
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise self.error(
                f"unknown {self.what} keys {[prefix + k for k in unknown]} (known: {sorted(fields)})"
            )
        return {name: self.coerce(prefix + name, v, fields[name]) for name, v in data.items()}

    def coerce(self, key: str, value: Any, default: Any) -> Any:
        """`value` converted to the type of `default`, or an error naming `key`."""
        if isinstance(default, bool):
            self.check(isinstance(value, bool), key, f"must be true or false, got {value!r}")
        elif isinstance(default, int):
            is_int = isinstance(value, int) and not isinstance(value, bool)
            self.check(is_int, key, f"must be an integer, got {value!r}")
        elif isinstance(default, float):
            return self.number(key, value)
        elif isinstance(default, tuple):
            is_list = isinstance(value, list | tuple)
            self.check(is_list, key, f"must be a list of numbers, got {value!r}")
            return tuple(self.number(key, item) for item in value)
        elif isinstance(default, str):
            self.check(isinstance(value, str), key, f"must be a string, got {value!r}")
        return value

    def number(self, key: str, value: Any) -> float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        self.check(ok and math.isfinite(value), key, f"must be a finite number, got {value!r}")
        return float(value)
