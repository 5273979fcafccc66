"""Fixtures: the package installed with colcon and with pip, once per session (installs.py)."""

from __future__ import annotations

import pytest
from installs import Install, build_colcon_install, build_pip_install


@pytest.fixture(scope="session")
def colcon_install(tmp_path_factory: pytest.TempPathFactory) -> Install:
    return build_colcon_install(tmp_path_factory.mktemp("ws"))


@pytest.fixture(scope="session")
def pip_install(tmp_path_factory: pytest.TempPathFactory) -> Install:
    return build_pip_install(tmp_path_factory.mktemp("pip"))


@pytest.fixture(params=["colcon", "pip"])
def installed(request: pytest.FixtureRequest) -> Install:
    """Each install in turn (the builds happen once per session)."""
    return request.getfixturevalue(f"{request.param}_install")
