"""Safety filter configuration: flat keys (friendly to ROS parameters), validated, with units.

One YAML file per robot in config/<robot>/safety.yaml. Every key has a default here, so a file
only lists what it changes. Every error is a ConfigError that names the key at fault.

Units: s, rad, rad/s, m, N, 1/s (class-K gains). Soft constraints pay an exact (L1) penalty:
`<name>_slack_penalty` * s + slack_quadratic_penalty * s², s >= 0 the slack of the constraint as
a distance in normalised torque (see ltc_control.safety.qp), in a cost where a torque change
equal to a joint's effort limit costs 1: penalties rank soft constraints against each other. The linear term makes the penalty exact: the slack stays 0 unless the constraint
cannot be met (conflict with the torque box or a hard constraint) or would need a multiplier
above the penalty; the small quadratic term keeps the solution unique.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ltc_control.config_files import FieldReader, read_mapping
from ltc_control.errors import ConfigError
from ltc_control.resources import robot_config

_FIELDS = FieldReader("safety config")
_check = _FIELDS.check
GAIN_KEYS = (
    "velocity_gain",
    "position_gain_1",
    "position_gain_2",
    "workspace_gain_1",
    "workspace_gain_2",
)
# The filter's name of each gain (SafetyFilter.gain_names, BarrierNet outputs) -> its config key.
GAIN_NAMES = dict(
    zip(
        (
            "joint_velocity.gain_1",
            "joint_position.gain_1",
            "joint_position.gain_2",
            "workspace.gain_1",
            "workspace.gain_2",
        ),
        GAIN_KEYS,
        strict=True,
    )
)


@dataclass(frozen=True)
class SafetyConfig:
    """Every knob of the safety filter. Frozen: change it with `dataclasses.replace` or tighten()."""

    robot: str = ""  # robot description name (config/<robot>/robot.yaml); informative
    control_period: float = 0.001  # s; torque held constant (zero-order hold) for this long
    torque_limit_scale: float = 1.0  # (0, 1]: fraction of the description's effort limits
    # Joint velocity CBF (relative degree 1): h = v_max - margin - |v|.
    velocity_enabled: bool = True
    velocity_margin: float = 0.05  # rad/s, kept from the description's velocity limit
    velocity_gain: float = 100.0  # 1/s
    velocity_soft: bool = False
    velocity_slack_penalty: float = 1.0e4
    # Joint position HOCBF (relative degree 2): h = distance to the limit minus margin.
    position_enabled: bool = True
    position_margin: float = 0.02  # rad, kept from the description's position limits
    position_gain_1: float = 4.0  # 1/s; approach speed <= gain_1 * distance
    position_gain_2: float = 40.0  # 1/s
    position_soft: bool = False
    position_slack_penalty: float = 1.0e4
    # Workspace HOCBF: end-effector contact sphere above the table top and inside a box.
    workspace_enabled: bool = True
    workspace_table: bool = True  # plane z = table height (robot description), sphere above it
    workspace_box_lower: tuple[float, ...] = (-1.0, -1.0, -1.0)  # m, world frame x, y, z
    workspace_box_upper: tuple[float, ...] = (1.0, 1.0, 1.5)  # m
    workspace_margin: float = 0.005  # m
    workspace_gain_1: float = 4.0  # 1/s
    workspace_gain_2: float = 40.0  # 1/s
    workspace_soft: bool = True
    workspace_slack_penalty: float = 1.0e4
    # End-effector force bound ||F|| <= force_max (rigid, sticking point contact; see constraints).
    force_enabled: bool = True
    force_max: float = 50.0  # N
    force_soft: bool = True
    force_slack_penalty: float = 1.0e2
    slack_quadratic_penalty: float = 1.0  # shared by every soft constraint (see module docstring)
    # BarrierNet mode: per-step class-K gains from the policy (SafetyFilter.filter's `gains`) are
    # used only in (0, min(ratio * configured gain, 1/control_period)); others are replaced.
    learned_gain_max_ratio: float = 2.0  # >= 1; 1 = learned gains may only lower the configured
    # Safe (braking) command: gravity compensation minus damping * v, clipped to the torque box.
    braking_damping: tuple[float, ...] = ()  # N·m·s/rad per joint; empty = effort / velocity limit
    warm_start: bool = True  # start DAQP from the previous working set (measured: 2x faster)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SafetyConfig:
        """Build from flat keys (e.g. a YAML mapping or ROS parameters); unknown keys are errors."""
        if not isinstance(data, dict):
            raise ConfigError(f"safety config must be a mapping, got {type(data).__name__}")
        config = cls(**_FIELDS.values(cls, data))
        config.validate()
        return config

    def gains_by_name(self) -> dict[str, float]:
        """Configured class-K gains (1/s) under the filter's gain names (see GAIN_NAMES)."""
        return {name: getattr(self, key) for name, key in GAIN_NAMES.items()}

    def to_dict(self) -> dict[str, Any]:
        """Flat plain-Python mapping (lists for vectors); from_dict(to_dict()) round-trips."""
        return {
            f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
            for f in dataclasses.fields(self)
        }

    def validate(self) -> None:
        """Raise ConfigError naming the first key that is out of range."""
        _check(0.0 < self.control_period <= 0.1, "control_period", "must be in (0, 0.1] s")
        _check(0.0 < self.torque_limit_scale <= 1.0, "torque_limit_scale", "must be in (0, 1]")
        for key in ("velocity_margin", "position_margin", "workspace_margin"):
            _check(getattr(self, key) >= 0.0, key, "must be >= 0 (a margin only tightens)")
        for key in GAIN_KEYS:
            gain = getattr(self, key)
            # The sampled-data CBF condition h[k+1] >= (1 - gain*dt) h[k] needs gain*dt < 1.
            _check(
                0.0 < gain * self.control_period < 1.0,
                key,
                f"must be in (0, 1/control_period) = (0, {1.0 / self.control_period:g}) 1/s",
            )
        for key in ("velocity", "position", "workspace", "force"):
            penalty = getattr(self, f"{key}_slack_penalty")
            _check(penalty > 0.0, f"{key}_slack_penalty", "must be > 0")
        _check(
            self.learned_gain_max_ratio >= 1.0,
            "learned_gain_max_ratio",
            "must be >= 1 (1: learned gains may only lower the configured gains)",
        )
        _check(self.slack_quadratic_penalty > 0.0, "slack_quadratic_penalty", "must be > 0")
        _check(self.force_max > 0.0, "force_max", "must be > 0 N")
        for key in ("workspace_box_lower", "workspace_box_upper"):
            _check(len(getattr(self, key)) == 3, key, "must be 3 numbers (x, y, z in m)")
        lower, upper = self.workspace_box_lower, self.workspace_box_upper
        _check(
            all(lo < hi for lo, hi in zip(lower, upper, strict=True)),
            "workspace_box_upper",
            "must be > workspace_box_lower on every axis",
        )
        _check(all(d >= 0 for d in self.braking_damping), "braking_damping", "must be >= 0")


def load_safety_config(path: str | Path) -> SafetyConfig:
    """Load a YAML file, or `config/<name>/safety.yaml` when given a robot name."""
    path = Path(path)
    if path.suffix not in (".yaml", ".yml"):
        path = robot_config(str(path), "safety")
    data = read_mapping(path, "safety config")
    try:
        return SafetyConfig.from_dict(data)
    except ConfigError as exc:
        raise ConfigError(f"{Path(path).absolute()}: {exc}") from exc


__all__ = ["GAIN_KEYS", "GAIN_NAMES", "SafetyConfig", "load_safety_config"]
