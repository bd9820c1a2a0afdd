import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def cartpole_demos():
    """10 episodes of the shipped CartPole-v1 expert (the issue's learning-test setting)."""
    from imitlab.data.collect import collect_demos
    from imitlab.experts import load_expert

    return collect_demos(load_expert("zoo", "CartPole-v1"), "CartPole-v1", episodes=10, seed=0)


@pytest.fixture(scope="session")
def cartpole_demo_file(cartpole_demos, tmp_path_factory):
    path = tmp_path_factory.mktemp("demos") / "cartpole.npz"
    cartpole_demos.save(path)
    return path
