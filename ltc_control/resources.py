"""Where the package's data lives: config/, launch/ and models/.

In a colcon install they are in share/ltc_control (found through the ament index); in the
project's venv (editable install) they are next to the sources, at the repository root.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

PACKAGE = "ltc_control"
_SOURCE_ROOT = Path(__file__).resolve().parents[1]


@cache
def share_dir() -> Path:
    if (_SOURCE_ROOT / "package.xml").is_file() and (_SOURCE_ROOT / "config").is_dir():
        return _SOURCE_ROOT
    for prefix in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep):
        candidate = Path(prefix) / "share" / PACKAGE
        if (candidate / "config").is_dir():
            return candidate
    raise FileNotFoundError(
        f"cannot find {PACKAGE}'s config/: not a source checkout and not in AMENT_PREFIX_PATH"
    )


def config_path(*parts: str) -> Path:
    return share_dir().joinpath("config", *parts)


def model_path(name: str) -> Path:
    return share_dir() / "models" / name


def shipped_policy(robot: str, kind: str = "cfc19") -> Path:
    """The trained policy that ships for `robot` (models/<robot>_<kind>.npz)."""
    return model_path(f"{robot}_{kind}.npz")
