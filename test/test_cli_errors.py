"""Every mistake a user can make on the command line ends with one line saying what is wrong and
a non-zero exit: the installed `ltc-control` console script and the node executables `ros2
launch` starts, run as a user runs them (subprocesses), never a Python traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ltc_control.resources import config_path, model_path

BIN = Path(sys.prefix) / "bin"
MODEL = model_path("double_pendulum_cfc19.npz")


def run(executable: str, *args: str, timeout: float = 90.0) -> subprocess.CompletedProcess:
    env = {**os.environ, "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}
    return subprocess.run(
        [str(BIN / executable), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=Path(__file__).parent,
    )


def error_lines(result: subprocess.CompletedProcess, prefix: str) -> list[str]:
    """The lines of stderr that report the error (ROS INFO logs of nodes that did start aside)."""
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return [line for line in result.stderr.splitlines() if line.startswith(prefix)]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("mistakes")
    text_model = folder / "notes.npz"
    text_model.write_text("not a model\n")
    params = config_path("panda", "ros.yaml").read_text()
    assert "watchdog_timeout:" in params
    files = {"text": text_model}
    for name, value in (("fast", '"fast"'), ("negative", "-1.0")):
        path = folder / f"{name}.yaml"
        path.write_text(
            "\n".join(
                f"    watchdog_timeout: {value}"
                if line.strip().startswith("watchdog_timeout:")
                else line
                for line in params.splitlines()
            )
        )
        files[name] = path
    return files


# (arguments, words the one line must contain). {text}, {fast}, {negative}: files above.
MISTAKES = [
    (["demo", "--robot", "nosuchrobot"], ["unknown robot 'nosuchrobot'", "double_pendulum, panda"]),
    (["demo", "--duration", "-1"], ["--duration", "> 0", "-1"]),
    (["evaluate", "--model", "{text}"], ["is not a model file", "text file"]),
    (["explain", "{text}"], ["is not a model file", "zip"]),
    (["evaluate", "--model", "/nonexistent.npz"], ["/nonexistent.npz does not exist"]),
    (["explain", str(MODEL), "--depths", "a,b"], ["--depths", "integer", "'a'"]),
    (["export", str(MODEL), "/nonexistent/dir/p.onnx"], ["folder /nonexistent/dir does not exist"]),
    (["safety-eval", "nosuchrobot"], ["unknown robot 'nosuchrobot'", "panda"]),
    (["safety-eval", "double_pendulum", "--episodes", "0"], ["--episodes", ">= 1"]),
    (["safety-eval", "double_pendulum", "--episodes", "-3"], ["--episodes", ">= 1"]),
    (
        ["safety-eval", "double_pendulum", "--set", "torque_limit_scal=0.5"],
        ["torque_limit_scal", "did you mean 'torque_limit_scale'"],
    ),
    (["urdf", "--robot", "nosuchrobot"], ["unknown robot 'nosuchrobot'"]),
    (["bringup", "nosuch.launch.xml"], ["'nosuch.launch.xml' not found", "sim.launch.xml"]),
    (["bringup", "robot:=panad"], ["unknown robot 'panad'", "did you mean 'panda'"]),
    (["bringup", "robto:=panda"], ["no launch argument robto", "did you mean 'robot'"]),
    (
        ["bringup", "params_file:={fast}"],
        ["safety_filter", "'watchdog_timeout' must be a double", "'fast'"],
    ),
    (
        ["bringup", "params_file:={negative}"],
        ["safety_filter", "'watchdog_timeout' = -1.0 is outside its range"],
    ),
    (["bringup", "model_file:=/tmp/nosuch.npz"], ["/tmp/nosuch.npz does not exist"]),
    (["bringup", "model_file:={text}"], ["is not a model file"]),
]


@pytest.mark.parametrize(
    ("arguments", "words"),
    MISTAKES,
    ids=[" ".join(a[:2]) + f"-{i}" for i, (a, _) in enumerate(MISTAKES)],
)
def test_a_mistake_is_one_line_and_a_non_zero_exit(files, arguments, words) -> None:
    argv = [a.format(**files) for a in arguments]
    result = run("ltc-control", *argv)
    assert result.returncode != 0, result.stdout[-2000:]
    lines = error_lines(result, f"ltc-control {argv[0]}: ")
    assert len(lines) == 1, result.stderr[-3000:]
    for word in words:
        assert word.format(**files) in lines[0], lines[0]
    assert "allow_pickle" not in result.stderr  # numpy's invitation to load a pickle


@pytest.mark.ros
@pytest.mark.parametrize(
    ("executable", "arguments", "words"),
    [
        ("safety_filter_node", ["-p", "watchdog_timeout:=-1.0"], ["-1.0 is outside its range"]),
        ("safety_filter_node", ["-p", "watchdog_timeout:=fast"], ["must be a double"]),
        ("policy_node", ["-p", "model_file:=/tmp/nosuch.npz"], ["does not exist"]),
        ("sim_node", ["-p", "robot:=nosuchrobot"], ["nosuchrobot", "not found"]),
        ("policy_node", ["--params-file", "/nonexistent.yaml"], ["params file"]),
    ],
)
def test_a_node_that_cannot_start_logs_one_fatal_line_and_exits_1(executable, arguments, words):
    """What `ros2 launch` shows for a node whose parameters or model file are wrong."""
    result = run(executable, "--ros-args", *arguments)
    assert result.returncode == 1, result.stderr[-2000:]
    lines = error_lines(result, "[FATAL]")
    assert len(lines) == 1 and f"[{executable}]" in lines[0], result.stderr[-3000:]
    for word in words:
        assert word in lines[0], lines[0]


def test_every_subcommand_help_shows_defaults() -> None:
    for command, option, default in [
        ("explain", "--episodes", "(default: 6)"),
        ("explain", "--depths", "(default: 1,2,3,4,6,8,12)"),
        ("evaluate", "--seed", "(default: 10000)"),
        ("safety-eval", "--episodes", "(default: 200)"),
        ("demo", "--duration", "sim time to run, s (default: 12.0)"),
    ]:
        result = run("ltc-control", command, "--help")
        assert result.returncode == 0 and option in result.stdout, result.stderr
        assert result.stdout.startswith(f"usage: ltc-control {command}")
        assert default in " ".join(result.stdout.split()), (command, option)


def test_bringup_help_lists_the_launch_files_and_their_arguments() -> None:
    result = run("ltc-control", "bringup", "--help")
    assert result.returncode == 0
    for launch_file in ("sim.launch.xml", "robot.launch.xml", "gazebo.launch.xml"):
        assert f"  {launch_file}" in result.stdout
    assert "robot:='panda'" in result.stdout and "model_file:=''" in result.stdout
