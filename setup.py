"""pip install for machines without a ROS 2 distribution (tools/dev.sh installs it editable).

In a colcon workspace CMakeLists.txt installs the same sources; package.xml wins there.
"""

from setuptools import Extension, find_packages, setup

setup(
    name="ltc_control",
    version="0.1.0",
    packages=find_packages(include=["ltc_control", "ltc_control.*"]),
    package_data={"ltc_control": ["*.so", "msg/*.so"]},
    python_requires=">=3.10",
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
