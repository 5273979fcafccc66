"""Episode data: the Trajectory time series (data.trajectory), rosbag2 recordings <-> Trajectory,
curation, and a demo recording (data.demo: expert rollouts from the simulator as a bag)."""

from ltc_control.data.bags import BagTopics, read_bag, write_bag
from ltc_control.data.curation import (
    DROP_REASONS,
    Coverage,
    CoverageGrid,
    CurationConfig,
    CurationReport,
    curate,
)
from ltc_control.data.errors import (
    BagFormatError,
    BagNotFoundError,
    DataError,
    JointNameError,
    MissingTopicError,
    NonFiniteDataError,
)
from ltc_control.data.trajectory import TRAJECTORY_ARRAYS, Trajectory, TrajectoryRows

__all__ = [
    "DROP_REASONS",
    "TRAJECTORY_ARRAYS",
    "BagFormatError",
    "BagNotFoundError",
    "BagTopics",
    "Coverage",
    "CoverageGrid",
    "CurationConfig",
    "CurationReport",
    "DataError",
    "JointNameError",
    "MissingTopicError",
    "NonFiniteDataError",
    "Trajectory",
    "TrajectoryRows",
    "curate",
    "read_bag",
    "write_bag",
]


def __getattr__(name: str) -> object:
    # Imported on first use, not with the package: `python -m ltc_control.data.demo` would
    # otherwise find the module already imported and warn (runpy's RuntimeWarning).
    if name == "make_demo_bag":
        from ltc_control.data.demo import make_demo_bag

        return make_demo_bag
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
