"""The Stable-Baselines3 adapter: act and q agree with SB3's own predict and critics."""

import sys

import numpy as np
import pytest
import torch

from imitlab.errors import UserError
from imitlab.experts import has_q, has_q_values, load_expert


def test_missing_sb3_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "stable_baselines3", None)  # makes `import stable_baselines3` fail
    with pytest.raises(UserError, match=r"pip install 'imitlab\[sb3\]'"):
        load_expert(f"sb3:{tmp_path / 'model.zip'}", "CartPole-v1")


def test_missing_sb3_on_the_cli_exits_2_and_writes_nothing(monkeypatch, tmp_path, capsys):
    from imitlab.cli import main

    monkeypatch.setitem(sys.modules, "stable_baselines3", None)
    code = main(["train", "dagger", "--env", "CartPole-v1", "--expert", f"sb3:{tmp_path / 'm.zip'}", "--steps", "100",
                 "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "imitlab[sb3]" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


@pytest.fixture(scope="module")
def sb3():
    return pytest.importorskip("stable_baselines3")


def test_sb3_sac_act_and_q_match_sb3(sb3, tmp_path):
    model = sb3.SAC("MlpPolicy", "Pendulum-v1", learning_starts=100, seed=0, policy_kwargs=dict(net_arch=[32, 32]))
    model.learn(300)
    model.save(tmp_path / "sac.zip")
    expert = load_expert(f"sb3:{tmp_path / 'sac.zip'}", "Pendulum-v1")
    assert has_q(expert) and not has_q_values(expert)
    obs = np.random.default_rng(0).uniform(-1, 1, (16, 3)).astype(np.float32)
    np.testing.assert_allclose(expert.act(obs), model.predict(obs, deterministic=True)[0], rtol=1e-5, atol=1e-6)
    acts = np.random.default_rng(1).uniform(-2, 2, (16, 1)).astype(np.float32)
    with torch.no_grad():
        q1, q2 = model.critic(torch.as_tensor(obs), torch.as_tensor(acts / 2.0))  # Pendulum: [-2, 2] -> [-1, 1]
    np.testing.assert_allclose(expert.q(obs, acts), torch.minimum(q1, q2)[:, 0].numpy(), rtol=1e-5, atol=1e-6)


def test_sb3_td3_q_is_the_min_of_its_twin_critics(sb3, tmp_path):
    model = sb3.TD3("MlpPolicy", "Pendulum-v1", learning_starts=100, seed=0, policy_kwargs=dict(net_arch=[16, 16]))
    model.learn(200)
    model.save(tmp_path / "td3.zip")
    expert = load_expert(f"sb3:{tmp_path / 'td3.zip'}", "Pendulum-v1")
    obs = np.random.default_rng(0).uniform(-1, 1, (8, 3)).astype(np.float32)
    acts = expert.act(obs)
    with torch.no_grad():
        qs = model.critic(torch.as_tensor(obs), torch.as_tensor(model.policy.scale_action(acts)))
    np.testing.assert_allclose(expert.q(obs, acts), torch.min(qs[0], qs[1])[:, 0].numpy(), rtol=1e-5, atol=1e-6)


def test_sb3_dqn_act_and_q_values_match_sb3(sb3, tmp_path):
    model = sb3.DQN("MlpPolicy", "CartPole-v1", learning_starts=100, train_freq=4, seed=0, policy_kwargs=dict(net_arch=[32, 32]))
    model.learn(400)
    model.save(tmp_path / "dqn.zip")
    expert = load_expert(f"sb3:{tmp_path / 'dqn.zip'}", "CartPole-v1")
    assert has_q_values(expert)
    obs = np.random.default_rng(0).normal(0, 0.1, (16, 4)).astype(np.float32)
    np.testing.assert_array_equal(expert.act(obs), model.predict(obs, deterministic=True)[0])
    with torch.no_grad():
        want = model.q_net(torch.as_tensor(obs)).numpy()
    np.testing.assert_allclose(expert.q_values(obs), want, rtol=1e-6)
    np.testing.assert_allclose(expert.q(obs, np.zeros(16, np.int64)), want[:, 0], rtol=1e-6)
    np.testing.assert_array_equal(expert.act(obs), want.argmax(1))


def test_sb3_ppo_is_an_expert_without_q_and_wrong_env_is_refused(sb3, tmp_path):
    sb3.PPO("MlpPolicy", "CartPole-v1", n_steps=64, seed=0).save(tmp_path / "ppo.zip")
    sb3.A2C("MlpPolicy", "CartPole-v1", seed=0).save(tmp_path / "a2c.zip")
    ppo = load_expert(f"sb3:{tmp_path / 'ppo.zip'}", "CartPole-v1")
    assert ppo.algo == "ppo" and not has_q(ppo)
    assert load_expert(f"sb3:{tmp_path / 'a2c.zip'}", "CartPole-v1").algo == "a2c"
    with pytest.raises(UserError, match="does not fit Acrobot-v1"):
        load_expert(f"sb3:{tmp_path / 'ppo.zip'}", "Acrobot-v1")
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    with pytest.raises(UserError, match="not a Stable-Baselines3 zip"):
        load_expert(f"sb3:{tmp_path / 'junk.zip'}", "CartPole-v1")


def test_dagger_with_an_sb3_expert_on_the_cli(sb3, tmp_path, capsys):
    from imitlab.cli import main

    sb3.PPO("MlpPolicy", "CartPole-v1", n_steps=64, seed=0).save(tmp_path / "ppo.zip")
    code = main(["train", "dagger", "--env", "CartPole-v1", "--expert", f"sb3:{tmp_path / 'ppo.zip'}", "--steps", "1000",
                 "--out", str(tmp_path / "run"), "--eval-episodes", "2"])
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "run" / "policy.pt").is_file()
