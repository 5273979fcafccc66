"""The simulator node's configuration."""

from __future__ import annotations

import pytest

from ltc_control.errors import ConfigError


def test_wall_clock_stamps_are_refused_in_lockstep(ros_context) -> None:
    """Lockstep time advances only when a command arrives: wall-clock stamps would lie."""
    from ltc_control.nodes.sim_node import SimNode

    args = ["--ros-args", "-p", "lockstep:=true", "-p", "wall_clock_stamps:=true"]
    with pytest.raises(ConfigError, match="'wall_clock_stamps' needs lockstep false"):
        SimNode(context=ros_context, cli_args=args, use_global_arguments=False)
