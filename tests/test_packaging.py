from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
requirements = pytest.importorskip("packaging.requirements")
version = pytest.importorskip("packaging.version")

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def _gymnasium_requirements():
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    specs = [*project["dependencies"], *(s for group in project["optional-dependencies"].values() for s in group)]
    reqs = [requirements.Requirement(s) for s in specs]
    return [r for r in reqs if r.name == "gymnasium"]


def test_every_gymnasium_requirement_has_the_same_step_autoreset_floor():
    # envs/vector.py uses gymnasium.vector.AutoresetMode.SAME_STEP and info["final_obs"], which
    # gymnasium 1.1.0 introduced; 1.0.x installs but fails on the first vector env.
    reqs = _gymnasium_requirements()
    assert len(reqs) >= 4  # the core dependency and the test, box2d and mujoco extras
    for req in reqs:
        assert not req.specifier.contains("1.0.0"), f"{req} allows gymnasium 1.0"
        assert req.specifier.contains("1.1.0"), f"{req} refuses gymnasium 1.1.0"
