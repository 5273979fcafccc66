"""Rollout plans: the YAML (config/rollouts.yaml) that says how to collect demonstrations.

Keys: episodes, duration_s, rate_hz (number or [low, high]), jitter, seed, and `randomization`
with the fields of RolloutConfig (expert gains stay at their defaults). Every error names the file
and the key (ConfigError).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ltc_control.config_files import read_mapping
from ltc_control.data.trajectory import Trajectory
from ltc_control.errors import ConfigError
from ltc_control.resources import rollout_plan_path
from ltc_control.robots.description import RobotDescription
from ltc_control.sim.rollouts import RolloutConfig, collect_rollouts
from ltc_control.sim.simulator import SimulatorError

_RANDOMIZATION_KEYS = {f.name for f in fields(RolloutConfig)} - {"gains"}


@dataclass(frozen=True)
class RolloutPlan:
    episodes: int
    duration_s: float
    rate_hz: float | tuple[float, float]
    jitter: float
    seed: int
    config: RolloutConfig

    def collect(self, robot: RobotDescription) -> list[Trajectory]:
        return collect_rollouts(
            robot, self.episodes, self.duration_s, self.rate_hz, self.jitter, self.seed, self.config
        )


def load_rollout_plan(path: str | Path | None = None) -> RolloutPlan:
    """Load a plan file (default: the package's config/rollouts.yaml)."""
    path = Path(path or rollout_plan_path()).absolute()
    return rollout_plan_from_dict(read_mapping(path, "rollout plan"), str(path))


def rollout_plan_from_dict(data: dict[str, Any], source: str = "rollout plan") -> RolloutPlan:
    randomization = data.get("randomization", {})
    unknown = (set(data) - {*_PLAN_KEYS, "randomization"}) | (
        set(randomization) - _RANDOMIZATION_KEYS
    )
    if unknown:
        raise ConfigError(f"{source}: unknown keys {sorted(unknown)}")
    values = {key: _number(data, key, source, kind) for key, kind in _PLAN_KEYS.items()}
    if values["episodes"] < 1 or values["duration_s"] <= 0 or not 0 <= values["jitter"] < 1:
        raise ConfigError(f"{source}: need episodes >= 1, duration_s > 0, 0 <= jitter < 1")
    randomized = {key: _number(randomization, key, source, float) for key in randomization}
    if "segment_s" in randomized:
        randomized["segment_s"] = tuple(randomized["segment_s"])
    try:
        config = RolloutConfig(**randomized)
    except SimulatorError as exc:
        raise ConfigError(f"{source}: randomization: {exc}") from exc
    return RolloutPlan(**values, config=config)


_PLAN_KEYS = {"episodes": int, "duration_s": float, "rate_hz": float, "jitter": float, "seed": int}


def _number(data: dict[str, Any], key: str, source: str, kind: type) -> Any:
    """A number, or a [low, high] pair of positive numbers (rate_hz, segment_s)."""
    if key not in data:
        raise ConfigError(f"{source}: missing key '{key}'")
    value = data[key]
    if isinstance(value, list) and kind is float:
        if (
            len(value) != 2
            or not all(_is_number(v) and v > 0 for v in value)
            or value[0] > value[1]
        ):
            raise ConfigError(f"{source}: '{key}' must be [low, high] with 0 < low <= high")
        return tuple(float(v) for v in value)
    if not _is_number(value) or (kind is int and not isinstance(value, int)):
        raise ConfigError(f"{source}: '{key}' must be a {kind.__name__}, got {value!r}")
    if value < 0:
        raise ConfigError(f"{source}: '{key}' must be >= 0, got {value}")
    return kind(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
