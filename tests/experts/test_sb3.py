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


# ---------------------------------------------------------------- zips saved under gymnasium 0.29
# CartPole-v1's observation space as gymnasium 0.29 saved it: the unbounded velocities were
# float32-max, where 1.x has inf (the zips of RL Zoo and the hub carry this one).
_F32_MAX = float(np.finfo(np.float32).max)
_CARTPOLE_029_HIGH = np.array([4.8, _F32_MAX, 0.41887903, _F32_MAX], np.float32)


def _cartpole_029(space=None):
    """CartPole-v1 declaring gymnasium 0.29's observation space (or ``space``)."""
    import gymnasium as gym

    class DeclaredSpace(gym.ObservationWrapper):
        def __init__(self, env):
            super().__init__(env)
            self.observation_space = space or gym.spaces.Box(-_CARTPOLE_029_HIGH, _CARTPOLE_029_HIGH, dtype=np.float32)

        def observation(self, obs):
            return obs

    return DeclaredSpace(gym.make("CartPole-v1"))


def _save_vecnormalize(path, mean, var, *, clip_obs=10.0, norm_obs=True):
    """SB3's VecNormalize with these observation statistics, saved as RL Zoo saves it."""
    import gymnasium as gym
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    vec = VecNormalize(DummyVecEnv([lambda: gym.make("CartPole-v1")]), norm_obs=norm_obs, clip_obs=clip_obs)
    if norm_obs:  # VecNormalize keeps no obs_rms otherwise
        vec.obs_rms.mean, vec.obs_rms.var = np.asarray(mean, np.float64), np.asarray(var, np.float64)
    path.parent.mkdir(parents=True, exist_ok=True)
    vec.save(str(path))
    return vec


def test_a_zip_with_gymnasium_029_bounds_loads_with_a_warning(sb3, tmp_path):
    from imitlab.envs.spaces import SpaceBoundsWarning

    model = sb3.PPO("MlpPolicy", _cartpole_029(), n_steps=64, seed=0)
    assert model.observation_space.high[1] == _F32_MAX  # the fixture really has 0.29's bounds
    model.save(tmp_path / "ppo.zip")
    with pytest.warns(SpaceBoundsWarning, match=r"CartPole-v1 in space bounds only \(observation low\[1\] -3.4e\+38 vs -inf"):
        expert = load_expert(f"sb3:{tmp_path / 'ppo.zip'}", "CartPole-v1")
    obs = np.random.default_rng(0).normal(0, 0.5, (16, 4)).astype(np.float32)
    np.testing.assert_array_equal(expert.act(obs), model.predict(obs, deterministic=True)[0])


def test_a_space_that_really_differs_is_refused_naming_the_difference(sb3, tmp_path):
    import gymnasium as gym

    sb3.PPO("MlpPolicy", _cartpole_029(), n_steps=64, seed=0).save(tmp_path / "ppo.zip")
    with pytest.raises(UserError, match=r"does not fit Acrobot-v1: observation shape \(4,\) vs \(6,\); action n 2 vs 3"):
        load_expert(f"sb3:{tmp_path / 'ppo.zip'}", "Acrobot-v1")
    float64 = gym.spaces.Box(-np.inf, np.inf, (4,), dtype=np.float64)
    sb3.PPO("MlpPolicy", _cartpole_029(float64), n_steps=64, seed=0).save(tmp_path / "f64.zip")
    with pytest.raises(UserError, match=r"does not fit CartPole-v1: observation dtype float64 vs float32 \(the model's"):
        load_expert(f"sb3:{tmp_path / 'f64.zip'}", "CartPole-v1")


# Statistics far from the identity, so that acting on raw observations visibly differs.
_MEAN, _VAR = [0.1, -0.2, 0.01, 0.3], [0.25, 0.04, 0.0025, 0.5]


@pytest.mark.parametrize("where", ["vecnormalize.pkl", "vec_normalize.pkl", "ppo/vecnormalize.pkl", "CartPole-v1/vecnormalize.pkl"])
def test_vecnormalize_beside_the_zip_is_applied(sb3, tmp_path, where):
    model = sb3.PPO("MlpPolicy", _cartpole_029(), n_steps=64, seed=0)
    model.save(tmp_path / "ppo.zip")
    vec = _save_vecnormalize(tmp_path / where, _MEAN, _VAR, clip_obs=3.0)  # a small clip that bites below
    with pytest.warns(UserWarning):
        expert = load_expert(f"sb3:{tmp_path / 'ppo.zip'}", "CartPole-v1")
    obs = np.random.default_rng(0).normal(0, 0.6, (256, 4)).astype(np.float32)
    normalized = vec.normalize_obs(obs)
    assert np.abs(normalized).max() == 3.0  # clip_obs is exercised
    want = model.predict(normalized, deterministic=True)[0]
    np.testing.assert_array_equal(expert.act(obs), want)
    assert (model.predict(obs, deterministic=True)[0] != want).any()  # raw observations would act otherwise


def test_vecnormalize_without_norm_obs_leaves_observations_raw(sb3, tmp_path):
    model = sb3.PPO("MlpPolicy", "CartPole-v1", n_steps=64, seed=0)
    model.save(tmp_path / "ppo.zip")
    _save_vecnormalize(tmp_path / "vecnormalize.pkl", _MEAN, _VAR, norm_obs=False)
    expert = load_expert(f"sb3:{tmp_path / 'ppo.zip'}", "CartPole-v1")
    obs = np.random.default_rng(0).normal(0, 0.6, (256, 4)).astype(np.float32)
    np.testing.assert_array_equal(expert.act(obs), model.predict(obs, deterministic=True)[0])


def test_vecnormalize_reaches_the_q_values_too(sb3, tmp_path):
    model = sb3.DQN("MlpPolicy", "CartPole-v1", seed=0, policy_kwargs=dict(net_arch=[32, 32]))
    model.save(tmp_path / "dqn.zip")
    vec = _save_vecnormalize(tmp_path / "vecnormalize.pkl", _MEAN, _VAR)
    expert = load_expert(f"sb3:{tmp_path / 'dqn.zip'}", "CartPole-v1")
    obs = np.random.default_rng(0).normal(0, 0.6, (64, 4)).astype(np.float32)
    with torch.no_grad():
        want = model.q_net(torch.as_tensor(vec.normalize_obs(obs))).numpy()
    np.testing.assert_allclose(expert.q_values(obs), want, rtol=1e-6)
    np.testing.assert_allclose(expert.q(obs, np.ones(64, np.int64)), want[:, 1], rtol=1e-6)
    np.testing.assert_array_equal(expert.act(obs), want.argmax(1))


def test_vecnormalize_of_another_shape_is_refused(sb3, tmp_path):
    sb3.PPO("MlpPolicy", "CartPole-v1", n_steps=64, seed=0).save(tmp_path / "ppo.zip")
    _save_vecnormalize(tmp_path / "vecnormalize.pkl", [0.0] * 3, [1.0] * 3)
    with pytest.raises(UserError, match=r"have shape \(3,\) but the model's observations \(4,\)"):
        load_expert(f"sb3:{tmp_path / 'ppo.zip'}", "CartPole-v1")


def _sb3_cartpole_expert(sb3, mean, var):
    """An SB3 PPO with gymnasium 0.29's CartPole space that acts as imitlab's shipped CartPole-v1
    expert does on observations normalised by ``mean``/``var`` (VecNormalize's epsilon 1e-8): the
    two networks have one shape (4-64-64-2, tanh), and the shipped expert's normalisation and
    VecNormalize's are folded into SB3's first layer."""
    from imitlab.policies import load_policy

    model = sb3.PPO("MlpPolicy", _cartpole_029(), seed=0)
    zoo, _ = load_policy("src/imitlab/experts/zoo/CartPole-v1.pt")
    ours = [m for m in zoo.net if isinstance(m, torch.nn.Linear)]
    theirs = [model.policy.mlp_extractor.policy_net[0], model.policy.mlp_extractor.policy_net[2], model.policy.action_net]
    assert [tuple(m.weight.shape) for m in ours] == [tuple(m.weight.shape) for m in theirs]
    sd, mu = torch.as_tensor(np.sqrt(np.asarray(var) + 1e-8)), torch.as_tensor(mean, dtype=torch.float64)
    zoo_mean, zoo_std = zoo.obs_mean.double(), zoo.obs_std.double()
    with torch.no_grad():
        # SB3 sees z = (x - mu) / sd; the shipped net wants (x - zoo_mean) / zoo_std with x = sd z + mu
        w, b = ours[0].weight.double(), ours[0].bias.double()
        theirs[0].weight.copy_(w * (sd / zoo_std))
        theirs[0].bias.copy_(b + w @ ((mu - zoo_mean) / zoo_std))
        for mine, other in zip(ours[1:], theirs[1:]):
            other.weight.copy_(mine.weight)
            other.bias.copy_(mine.bias)
    return model


def test_dagger_from_an_sb3_zip_of_gymnasium_029_with_vecnormalize_reaches_475(sb3, tmp_path, capsys):
    """The issue's bar, end to end: a zip with 0.29's float32-max bounds and its VecNormalize
    statistics (without them this expert scores about 100), DAgger on the CLI, then imitlab eval."""
    import json

    from imitlab.cli import main

    mean, var = [0.1, 0.0, 0.01, 0.0], [0.25, 0.25, 0.0025, 0.25]
    _sb3_cartpole_expert(sb3, mean, var).save(tmp_path / "expert.zip")
    _save_vecnormalize(tmp_path / "vecnormalize.pkl", mean, var)
    code = main(["train", "dagger", "--env", "CartPole-v1", "--expert", f"sb3:{tmp_path / 'expert.zip'}",
                 "--steps", "4000", "--seed", "0", "--eval-every", "0", "--eval-episodes", "10", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 0, err
    # the CLI says it in one line (imitlab: warning: ...), not through Python's two-line warning
    assert [line for line in err.splitlines() if line.startswith("imitlab: warning:") and "in space bounds only" in line]
    assert main(["eval", "--env", "CartPole-v1", "--policy", str(tmp_path / "run"), "--episodes", "50", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["mean_return"] >= 475, result


class _Exploit:
    """A pickle that runs a command when it is loaded by plain ``pickle.load``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


def test_a_vecnormalize_file_that_would_run_code_is_refused_and_runs_none(tmp_path):
    """The statistics beside a zip are read without unpickling code: a file naming anything but
    numpy's array rebuilders and inert records is refused, and its payload never runs."""
    import pickle

    from imitlab.experts.sb3 import load_vecnormalize

    marker = tmp_path / "ran"
    (tmp_path / "vecnormalize.pkl").write_bytes(pickle.dumps({"obs_rms": _Exploit(marker)}))
    with pytest.raises(UserError, match=r"cannot read the VecNormalize statistics.*system"):
        load_vecnormalize(tmp_path / "vecnormalize.pkl", (4,))
    assert not marker.exists()


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_an_sb3_ppo_actor_converts_to_an_imitlab_policy_that_acts_as_it_does(sb3, tmp_path, env_id):
    from imitlab.experts.sb3 import as_imitlab_policy

    model = sb3.PPO("MlpPolicy", env_id, n_steps=64, batch_size=64, seed=0, policy_kwargs=dict(net_arch=[32, 16]))
    model.learn(128)  # weights away from their initial values
    model.save(tmp_path / "ppo.zip")
    mean, var = ([0.1, -0.2, 0.01, 0.3], [0.25, 0.04, 0.0025, 0.5]) if env_id == "CartPole-v1" else ([0.1, -0.2, 0.5], [0.3, 0.2, 4.0])
    vec = _save_vecnormalize(tmp_path / "vecnormalize.pkl", mean, var, clip_obs=10.0)
    expert = load_expert(f"sb3:{tmp_path / 'ppo.zip'}", env_id)
    policy = as_imitlab_policy(expert, env_id)
    # within VecNormalize's clip (10 standard deviations), which imitlab's normalisation does not apply
    obs = (np.asarray(mean) + np.sqrt(var) * np.random.default_rng(0).normal(0, 2, (256, len(mean)))).astype(np.float32)
    want = model.predict(vec.normalize_obs(obs), deterministic=True)[0]
    got = policy.act(obs)
    if env_id == "CartPole-v1":
        # VecNormalize normalises in float64, imitlab in float32: the logits agree to rounding, and the
        # actions wherever the two logits are not tied to rounding
        with torch.no_grad():
            theirs = model.policy.get_distribution(torch.as_tensor(vec.normalize_obs(obs))).distribution.logits
            mine = torch.log_softmax(policy.logits(torch.as_tensor(obs)), -1)
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), atol=1e-4)
        clear = (theirs[:, 1] - theirs[:, 0]).abs().numpy() > 1e-3
        assert clear.mean() > 0.9 and (got[clear] == want[clear]).all()
    else:  # SB3 clips its deterministic action to the bounds; the env clips imitlab's
        np.testing.assert_allclose(np.clip(got, -2, 2), want, rtol=1e-4, atol=1e-4)


def test_fit_q_takes_an_sb3_ppo_zip_and_aggrevated_takes_its_file(sb3, tmp_path, capsys):
    from imitlab.cli import main
    from imitlab.policies import load_policy

    sb3.PPO("MlpPolicy", "CartPole-v1", n_steps=64, batch_size=64, seed=0).save(tmp_path / "ppo.zip")
    out = tmp_path / "ppo-q.pt"
    assert main(["expert", "fit-q", "--env", "CartPole-v1", "--expert", f"sb3:{tmp_path / 'ppo.zip'}", "--steps", "500",
                 "--updates", "50", "--out", str(out)]) == 0
    policy, meta = load_policy(out)
    assert meta["extra"]["fit_q"]["converted_from"] == "sb3"
    assert main(["train", "aggrevated", "--env", "CartPole-v1", "--expert", str(out), "--steps", "200", "--rollins", "2",
                 "--horizon", "50", "--eval-every", "100", "--eval-episodes", "1", "--out", str(tmp_path / "agg")]) == 0
    sb3.SAC("MlpPolicy", "Pendulum-v1", seed=0).save(tmp_path / "sac.zip")
    capsys.readouterr()
    assert main(["expert", "fit-q", "--env", "Pendulum-v1", "--expert", f"sb3:{tmp_path / 'sac.zip'}", "--steps", "100",
                 "--out", str(tmp_path / "sac-q.pt")]) == 2
    assert "has its own Q*" in capsys.readouterr().err
