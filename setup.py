"""pip install for machines without a ROS 2 distribution (tools/dev.sh installs it editable).

In a colcon workspace CMakeLists.txt installs the same sources; package.xml wins there.

Data files: a wheel carries config/, launch/, models/ and package.xml inside the package, in
ltc_control/share/ (the same tree colcon installs to share/ltc_control), so a plain `pip install`
finds them next to the code with no install-scheme guessing (ltc_control.resources). Editable
installs skip the copy: the checkout is the share directory.
"""

import shutil
from pathlib import Path

from setuptools import Extension, find_packages, setup
from setuptools.command.build_py import build_py

SHARED_DATA = ("config", "launch", "models", "package.xml")


class BuildPyWithData(build_py):
    """build_py that also copies SHARED_DATA into the built package's share/ folder."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        share = Path(self.build_lib) / "ltc_control" / "share"
        shutil.rmtree(share, ignore_errors=True)
        share.mkdir(parents=True)
        for name in SHARED_DATA:
            source = Path(name)
            if source.is_dir():
                shutil.copytree(source, share / name)
            else:
                shutil.copy2(source, share / name)


setup(
    name="ltc_control",
    version="0.1.0",
    packages=find_packages(include=["ltc_control", "ltc_control.*"]),
    package_data={"ltc_control": ["*.so", "msg/*.so"]},
    python_requires=">=3.10",
    cmdclass={"build_py": BuildPyWithData},
    # The safety filter's compiled step (plain C, CPython API only; CMakeLists.txt builds the same).
    ext_modules=[
        Extension(
            "ltc_control.safety._kernel",
            ["ltc_control/safety/_kernel.c"],
            extra_compile_args=["-O2", "-std=c11"],
        )
    ],
    entry_points={
        "console_scripts": [
            "ltc-control = ltc_control.cli.main:main",
            "composed_nodes = ltc_control.nodes.composed:main",
            "policy_node = ltc_control.nodes.policy_node:main",
            "safety_filter_node = ltc_control.nodes.safety_filter_node:main",
            "sim_node = ltc_control.nodes.sim_node:main",
            "target_node = ltc_control.nodes.target_node:main",
        ],
    },
)
