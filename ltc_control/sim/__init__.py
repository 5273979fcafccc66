"""Simulation: a torque-controlled MuJoCo arm, the reaching task, and the expert that solves it."""

from ltc_control.sim.simulator import (
    ArmSimulator,
    Measurement,
    SimConfig,
    SimulatorError,
    random_mass_scale,
    sample_times,
)

__all__ = [
    "ArmSimulator",
    "Measurement",
    "SimConfig",
    "SimulatorError",
    "random_mass_scale",
    "sample_times",
]
