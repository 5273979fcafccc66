"""Test support shared by test modules and benchmarks (imported as `ltc_testing`; test/ is on
sys.path under pytest, and benchmarks add it)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from ltc_control.robots import load_robot_description
from ltc_control.runtime.signals import policy_input_names, policy_output_names


def write_untrained_policy(
    robot_name: str, path: Path, seed: int = 0, pinned: Mapping[str, float] | None = None
) -> Path:
    """A 19-neuron CfC/AutoNCP with the deployment I/O names and fresh (untrained) weights.

    Integration tests need a real model file, not a good one: its small outputs on top of
    gravity compensation keep the arm near where it is. `pinned`: outputs held at a value
    (output std 1e-9 around it), by name; a `cbf_gain/...` name adds that output (a BarrierNet
    model's raw gain).
    """
    import torch
    from ncps.torch import CfC
    from ncps.wirings import AutoNCP

    from ltc_control.runtime.policy import Normalization
    from ltc_control.training.convert import from_ncps

    torch.manual_seed(seed)
    robot = load_robot_description(robot_name)
    inputs = policy_input_names(robot.joint_names)
    pinned = dict(pinned or {})
    outputs = policy_output_names(robot.joint_names)
    outputs += [name for name in pinned if name not in outputs]
    module = CfC(len(inputs), AutoNCP(19, len(outputs), seed=seed), batch_first=True)
    normalization = Normalization.identity(len(inputs), len(outputs))
    for i, name in enumerate(outputs):
        if name in pinned:
            normalization.output_mean[i], normalization.output_std[i] = pinned[name], 1e-9
    from_ncps(
        module,
        input_names=inputs,
        output_names=outputs,
        normalization=normalization,
        model_id=f"untrained-{robot_name}",
        path=path,
    )
    return path


def launch_command(entry: object, workdir: Path) -> list[str]:
    """The command line `ros2 launch` runs for one of our launch entries (a NodeLaunch): the
    venv's executable, its own arguments, then its --ros-args."""
    from ltc_control.nodes.bringup import ros_arguments

    executable = str(Path(sys.prefix) / "bin" / entry.executable)
    return [executable, *entry.arguments, *ros_arguments(entry, workdir)]


def latency_summary(latency: object, rate_hz: float, published: int, seconds: float) -> dict:
    """The loop's latency as the simulator measured it (a sim_node.CommandLatency) over a run
    that published `published` joint states in `seconds`: percentiles, answers slower than a
    period, late and dropped answers, achieved rate."""
    latency_ms = latency.samples_s.values() * 1e3
    return {
        "rate_hz": rate_hz,
        "p50_ms": float(np.percentile(latency_ms, 50)),
        "p99_ms": float(np.percentile(latency_ms, 99)),
        "max_ms": float(latency_ms.max()),
        "published": published,  # one joint state per step
        "answered": int(latency_ms.size),
        "late": int(latency.late),
        "over_period": int((latency_ms > 1e3 / rate_hz).sum()),
        "dropped": int(latency.dropped + latency.unanswered),
        "achieved_hz": published / seconds,
    }


def realtime_parameters(
    workdir: Path, rate_hz: float, wall_clock: bool, **changes: dict[str, object]
) -> Path:
    """sim.launch.xml's Panda parameter file for a loop paced like a robot's: the sim in real
    time (not lockstep) at `rate_hz`, with wall-clock stamps and no /clock (`wall_clock`) or sim
    time; `changes`: node name -> further parameters."""
    import yaml

    from ltc_control.nodes.bringup import expand_composed
    from ltc_control.nodes.launch_xml import read_launch_file
    from ltc_control.resources import share_dir

    launch = read_launch_file(share_dir() / "launch" / "sim.launch.xml", {"robot": "panda"})
    source = expand_composed(launch.nodes)[0].parameter_files[0]
    params = yaml.safe_load(source.read_text())
    params["sim"]["ros__parameters"].update(
        lockstep=False, publish_rate_hz=rate_hz, wall_clock_stamps=wall_clock
    )
    params["safety_filter"]["ros__parameters"]["control_rate_hz"] = rate_hz
    for node, values in changes.items():
        params[node]["ros__parameters"].update(values)
    path = workdir / f"panda_{int(rate_hz)}hz_{'wall' if wall_clock else 'sim'}.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def stop_processes(processes: Iterable[object], timeout: float = 20.0) -> None:
    """SIGINT every process (a node's clean shutdown: final braking, exit 0), then wait for each;
    one still running after `timeout` s is killed."""
    import signal
    import subprocess

    processes = list(processes)
    for process in processes:
        process.send_signal(signal.SIGINT)
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
