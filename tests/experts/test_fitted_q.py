"""Fitted Q evaluation (imitlab.experts.fitted_q, ``imitlab expert fit-q``): the critic it fits for an
expert without one agrees with Monte-Carlo returns of that expert from restored states, and
every command takes the file it writes as an expert with Q*."""

from __future__ import annotations

import numpy as np
import pytest

from imitlab.cli import main
from imitlab.experts import has_q, has_q_values, load_expert
from imitlab.experts.fitted_q import FitQConfig, fit_q, monte_carlo_check
from imitlab.policies import load_policy


def test_fit_q_of_cartpoles_ppo_expert_matches_monte_carlo(tmp_path, capsys):
    out = tmp_path / "cartpole-q.pt"
    assert main(["expert", "fit-q", "--env", "CartPole-v1", "--expert", "zoo", "--steps", "20000", "--out", str(out)]) == 0
    assert "Pearson" in capsys.readouterr().out
    _, meta = load_policy(out)
    check = meta["extra"]["fit_q"]["monte_carlo_check"]
    # The PPO expert recovers from most single mistakes (Q* = 99.3, the discounted 500 steps); the
    # states where it cannot are what spread the returns, and what AggreVaTeD must tell apart.
    assert check["mc_std"] > 5 and check["pearson"] >= 0.9
    expert = load_expert(str(out), "CartPole-v1")
    assert has_q_values(expert)
    q = expert.q_values(np.zeros((3, 4), np.float32))
    assert q.shape == (3, 2) and np.all(np.isfinite(q))


def test_fit_q_of_pendulums_actor_matches_monte_carlo():
    expert = load_expert("zoo", "Pendulum-v1").policy  # the SAC actor alone: its own critic is not used
    result = fit_q(expert, "Pendulum-v1", steps=10_000, config=FitQConfig(updates=6_000, hidden=(64, 64)))
    check = monte_carlo_check(result.critic, expert, "Pendulum-v1", result.states[:128], gamma=0.99, horizon=400)
    assert check["mc_std"] > 10 and check["pearson"] >= 0.9


def test_fit_q_refuses_what_it_cannot_save(tmp_path, capsys):
    for argv, match in ((["--out", str(tmp_path / "q.npz")], ".pt file"),
                        (["--out", str(tmp_path / "q.pt"), "--explore", "2"], "--explore")):
        code = main(["expert", "fit-q", "--env", "CartPole-v1", "--expert", "zoo", "--steps", "100", *argv])
        err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
        assert code == 2 and len(err) == 1 and match in err[0], err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("config, match", [(FitQConfig(explore=1.5), "explore"), (FitQConfig(gamma=1.0), "gamma")])
def test_fit_q_checks_its_settings(config, match):
    from imitlab.errors import UserError

    with pytest.raises(UserError, match=match):
        fit_q(load_expert("zoo", "CartPole-v1"), "CartPole-v1", steps=10, config=config)
    assert has_q(load_expert("zoo:dqn", "CartPole-v1"))
