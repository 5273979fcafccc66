"""Declared ROS parameters: one table per node, so launch tests and docs read the same truth.

Every parameter has a description and, when numeric, a range; rclpy then refuses an out-of-range
value from a parameter file at start-up (InvalidParameterValueException naming the parameter).
The tables are plain data: test/launch checks config/*/ros.yaml and launch/*.xml against them
without starting ROS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ltc_control.errors import ConfigError, did_you_mean


@dataclass(frozen=True)
class ParameterSpec:
    name: str
    default: Any
    description: str
    low: float | None = None  # inclusive range for numbers
    high: float | None = None
    read_only: bool = False  # fixed after start-up (e.g. which robot or model file)
    choices: tuple[str, ...] = ()

    def check(self, value: Any) -> None:
        """Raise ConfigError if `value` is not acceptable (same rule as the ROS descriptor)."""
        expected = type(self.default)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(f"parameter '{self.name}' must be {expected.__name__}, got {value!r}")
        below = self.low is not None and value < self.low
        above = self.high is not None and value > self.high
        if isinstance(value, int | float) and (below or above):
            raise ConfigError(
                f"parameter '{self.name}' = {value} outside [{self.low}, {self.high}]"
            )
        if self.choices and value not in self.choices:
            raise ConfigError(
                f"parameter '{self.name}' = {value!r}, expected one of {self.choices}"
            )


def declare_parameters(node: Any, specs: tuple[ParameterSpec, ...]) -> dict[str, Any]:
    """Declare every spec on an rclpy node and return the values (after overrides), checked."""
    from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor

    values = {}
    for spec in specs:
        descriptor = ParameterDescriptor(
            name=spec.name, description=spec.description, read_only=spec.read_only
        )
        if spec.choices:
            descriptor.additional_constraints = f"one of: {', '.join(spec.choices)}"
        if isinstance(spec.default, float) and spec.low is not None:
            descriptor.floating_point_range = [
                FloatingPointRange(from_value=spec.low, to_value=spec.high, step=0.0)
            ]
        elif (
            isinstance(spec.default, int)
            and not isinstance(spec.default, bool)
            and spec.low is not None
        ):
            descriptor.integer_range = [
                IntegerRange(from_value=int(spec.low), to_value=int(spec.high), step=1)
            ]
        value = node.declare_parameter(spec.name, spec.default, descriptor).value
        spec.check(value)
        values[spec.name] = value
    return values


def warn_unknown_parameters(node: Any) -> list[str]:
    """Log a warning naming every parameter given to `node` (parameter file, -p, overrides)
    that it does not declare, with the closest declared name: rclpy ignores them silently, so a
    typo such as `watchdog_timout` would leave the default in force unnoticed. Returns them.

    rclpy has no public accessor for the overrides (rclcpp has get_parameter_overrides()), so
    this reads Node._parameter_overrides; without it the check is skipped, never fatal.
    """
    given = getattr(node, "_parameter_overrides", {})
    unknown = sorted(
        name
        for name in given
        if not name.startswith("qos_overrides.") and not node.has_parameter(name)
    )
    declared = list(node.list_parameters([], 0).names)
    for name in unknown:
        node.get_logger().warning(
            f"parameter '{name}' is not a parameter of this node{did_you_mean(name, declared)}; "
            "ignored"
        )
    return unknown
