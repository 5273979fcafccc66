"""Numpy-only runtime for liquid neural network policies (LTC and CfC, ncps 1.0.1 faithful).

Promises: importing this package, loading a model file and stepping a policy import neither
torch, cvxpy nor rclpy (edge devices). `load_policy(path)` gives a `LiquidPolicy` whose
`step(x, dt)` maps raw inputs (policy.input_units) and an elapsed time dt > 0 in seconds to raw
outputs (policy.output_units). The file format is documented in `model_file`. Converting a
trained ncps module (`from_ncps`, `from_state_dict`) needs torch: ltc_control.training.convert.
`signals` maps the model's input/output names to robot quantities; `paper_form` gives the
parameters as the equations use them (for the ONNX exporter and the explainers).
"""

from ltc_control.runtime.cfc import CfCRuntime, WiredCfCRuntime
from ltc_control.runtime.errors import (
    ConversionError,
    LiquidRuntimeError,
    ModelFileError,
    ModelFileVersionError,
    ParameterError,
    RuntimeInputError,
    WiringError,
)
from ltc_control.runtime.lstm import LSTMRuntime
from ltc_control.runtime.ltc import LTCRuntime
from ltc_control.runtime.model_file import FORMAT_VERSION, load_policy, save_policy
from ltc_control.runtime.network import LiquidNetwork, build_network
from ltc_control.runtime.policy import LiquidPolicy, Normalization
from ltc_control.runtime.wirings import NCP, AutoNCP, FullyConnected, Random, Wiring

__all__ = [
    "FORMAT_VERSION",
    "NCP",
    "AutoNCP",
    "CfCRuntime",
    "ConversionError",
    "FullyConnected",
    "LSTMRuntime",
    "LTCRuntime",
    "LiquidNetwork",
    "LiquidPolicy",
    "LiquidRuntimeError",
    "ModelFileError",
    "ModelFileVersionError",
    "Normalization",
    "ParameterError",
    "Random",
    "RuntimeInputError",
    "WiredCfCRuntime",
    "Wiring",
    "WiringError",
    "build_network",
    "load_policy",
    "save_policy",
]
