"""One way to find every file the package needs, wherever it is installed.

The package's data (config/, launch/, models/, package.xml) lives in its *share directory*, found
next to the imported `ltc_control` module, so code and data always come from the same install:

- source checkout / editable venv: the repository root (the folder holding ltc_control/);
- pip install (wheel): ltc_control/share/ inside the installed package (setup.py puts it there);
- colcon install: <prefix>/share/ltc_control (ament index, AMENT_PREFIX_PATH, or the prefix the
  module is installed under).

Per-robot files follow ros2_control_demos: config/<robot>/{ros,robot,safety,controllers,train}.yaml.
Paths written in a user's file resolve against that file's folder (`resolve_path`);
`package://ltc_control/...` names a file of the installed package explicitly.

example-robot-data (the URDFs) is found in the running interpreter's packages, any `cmeel.prefix`
on sys.path, the ament index (the ROS package example-robot-data), or $LTC_EXAMPLE_ROBOT_DATA.
"""

from __future__ import annotations

import os
import sys
from functools import cache
from importlib.resources import files
from pathlib import Path

from ltc_control.errors import ConfigError

PACKAGE = "ltc_control"
PACKAGE_URI = f"package://{PACKAGE}/"
ROBOT_FILES = ("ros", "robot", "safety", "controllers", "train")  # config/<robot>/<kind>.yaml
EXAMPLE_ROBOT_DATA_ENV = "LTC_EXAMPLE_ROBOT_DATA"
# Where the flat config/ layout (until 0.1) kept each file -> its place now.
_OLD_LAYOUT = {
    "robots/{}.yaml": "robot",
    "safety/{}.yaml": "safety",
    "gazebo/{}_controllers.yaml": "controllers",
    "train_{}.yaml": "train",
    "{}.yaml": "ros",
}


def _module_dir() -> Path:
    return Path(str(files(PACKAGE)))


def _is_share(path: Path) -> bool:
    return (path / "package.xml").is_file() and (path / "config").is_dir()


def share_candidates() -> list[Path]:
    """Where the share directory may be, most specific first (see the module docstring)."""
    module = _module_dir()
    candidates = [module / "share", module.parent]
    candidates += [prefix / "share" / PACKAGE for prefix in module.parents]
    candidates += [Path(p) / "share" / PACKAGE for p in _ament_prefixes()]
    return candidates


@cache
def share_dir() -> Path:
    """The folder holding config/, launch/, models/ and package.xml of the imported package."""
    for candidate in share_candidates():
        if _is_share(candidate):
            return candidate.resolve()
    raise ConfigError(
        f"cannot find {PACKAGE}'s data (config/, launch/, models/): looked in "
        f"{[str(c) for c in share_candidates()]}; reinstall the package (pip or colcon)"
    )


def source_dir(subpackage: str) -> Path:
    """The folder of one of the package's subpackages (its .py sources), e.g. "sim"."""
    return _module_dir() / subpackage


def config_path(*parts: str) -> Path:
    return share_dir().joinpath("config", *parts)


def robot_config(robot: str, kind: str) -> Path:
    """config/<robot>/<kind>.yaml, kind one of ROBOT_FILES."""
    if kind not in ROBOT_FILES:
        raise ValueError(f"kind must be one of {ROBOT_FILES}, got {kind!r}")
    return config_path(robot, f"{kind}.yaml")


def available_robots() -> list[str]:
    """Robots the package ships a description for (config/<robot>/robot.yaml)."""
    return sorted(p.parent.name for p in config_path().glob("*/robot.yaml"))


def rollout_plan_path() -> Path:
    """The expert-demonstration plan shared by the robots (config/rollouts.yaml)."""
    return config_path("rollouts.yaml")


def launch_path(name: str) -> Path:
    return share_dir() / "launch" / name


def model_path(name: str) -> Path:
    return share_dir() / "models" / name


def shipped_policy(robot: str, kind: str = "cfc19") -> Path:
    """The trained policy that ships for `robot` (models/<robot>_<kind>.npz)."""
    return model_path(f"{robot}_{kind}.npz")


def in_package_data(path: Path) -> bool:
    """True for a path inside the package's config/, launch/ or models/."""
    path = path.resolve()
    return any(
        path.is_relative_to(share_dir() / folder) for folder in ("config", "launch", "models")
    )


def is_shipped_model(path: Path) -> bool:
    """True for an existing file in the package's models/ (what `train` must not overwrite)."""
    path = path.resolve()
    return path.is_file() and path.parent == (share_dir() / "models").resolve()


def resolve_path(text: str | Path, base: Path) -> Path:
    """A path as written in a file in folder `base`: absolute, `~/...`, `package://ltc_control/...`
    (the installed package's share directory), or relative to `base`. Always absolute."""
    text = str(text)
    if text.startswith("package://"):
        if not text.startswith(PACKAGE_URI):
            raise ConfigError(f"{text}: only {PACKAGE_URI}... package URIs are supported")
        return share_dir() / text.removeprefix(PACKAGE_URI)
    # abspath, not resolve(): '..' is folded, symlinks stay as written
    return Path(os.path.abspath(Path(base) / Path(text).expanduser()))


def old_layout_hint(path: Path) -> str:
    """For a missing file written in the old flat config/ layout: where it lives now ('' if not)."""
    path = Path(path)
    parts = path.parts
    if "config" not in parts:
        return ""
    relative = "/".join(parts[len(parts) - parts[::-1].index("config") :])
    for robot in available_robots():
        for pattern, kind in _OLD_LAYOUT.items():
            if relative == pattern.format(robot):
                return f" (the config layout changed: this file is now config/{robot}/{kind}.yaml)"
    if relative == "sim/rollouts.yaml":
        return " (the config layout changed: this file is now config/rollouts.yaml)"
    return ""


def example_robot_data_candidates() -> list[Path]:
    """Where example-robot-data may be without an override, in search order."""
    # the pip wheel (cmeel) in this interpreter's site-packages, or any cmeel.prefix on sys.path
    candidates = [Path(p) / "cmeel.prefix/share/example-robot-data" for p in sys.path if p]
    # a ROS install: the package example-robot-data in the ament index
    candidates += [Path(prefix) / "share/example-robot-data" for prefix in _ament_prefixes()]
    return list(dict.fromkeys(candidates))


def example_robot_data_dir() -> Path:
    """The example-robot-data folder holding robots/ (URDFs); $LTC_EXAMPLE_ROBOT_DATA wins.

    An override that does not hold robots/ is an error, not silently skipped.
    """
    override = os.environ.get(EXAMPLE_ROBOT_DATA_ENV)
    if override:
        root = Path(override).expanduser().resolve()
        if not (root / "robots").is_dir():
            raise ConfigError(f"${EXAMPLE_ROBOT_DATA_ENV}={override}: no robots/ folder in {root}")
        return root
    for root in example_robot_data_candidates():
        if (root / "robots").is_dir():
            return root.resolve()
    raise ConfigError(
        "example-robot-data not found (looked in "
        f"{', '.join(str(c) for c in example_robot_data_candidates())}): "
        "pip install example-robot-data, install ros-<distro>-example-robot-data, "
        f"or set {EXAMPLE_ROBOT_DATA_ENV} to the folder holding its robots/"
    )


def _ament_prefixes() -> list[str]:
    return [p for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
