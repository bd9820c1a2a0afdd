import pickle
import re
import struct
import zipfile

import gymnasium as gym
import numpy as np
import pytest
import torch

from imitlab.errors import UserError
from imitlab.policies import CategoricalPolicy, GaussianPolicy, load_policy, make_policy, save_policy

BOX_OBS = gym.spaces.Box(-np.inf, np.inf, (3,), np.float32)


def test_gaussian_log_prob_and_entropy_match_torch_in_unit_space():
    act_space = gym.spaces.Box(np.array([-2.0, 0.0], np.float32), np.array([2.0, 1.0], np.float32))
    pol = GaussianPolicy(BOX_OBS, act_space, (16,))
    obs = torch.randn(5, 3)
    acts = torch.tensor(act_space.low) + torch.rand(5, 2) * torch.tensor(act_space.high - act_space.low)
    logp, ent = pol.log_prob_entropy(obs, acts)
    dist = pol.distribution(obs)
    torch.testing.assert_close(logp, dist.log_prob(pol.to_unit(acts)).sum(-1))
    torch.testing.assert_close(ent, dist.entropy().sum(-1))


def test_gaussian_sample_log_prob_matches_log_prob():
    act_space = gym.spaces.Box(-2.0, 2.0, (2,), np.float32)
    pol = GaussianPolicy(BOX_OBS, act_space, (16,))
    obs = torch.randn(64, 3)
    act, logp = pol.sample(obs, torch.Generator().manual_seed(0))
    torch.testing.assert_close(logp, pol.log_prob(obs, act), rtol=1e-4, atol=1e-4)


def test_categorical_sampling_follows_the_probabilities():
    pol = CategoricalPolicy(BOX_OBS, gym.spaces.Discrete(3), (16,))
    with torch.no_grad():
        pol.net[-1].bias.copy_(torch.log(torch.tensor([0.2, 0.3, 0.5])))
        pol.net[-1].weight.zero_()
    obs = torch.zeros(200_000, 3)
    act, logp = pol.sample(obs, torch.Generator().manual_seed(0))
    freq = torch.bincount(act, minlength=3).float() / len(act)
    torch.testing.assert_close(freq, torch.tensor([0.2, 0.3, 0.5]), atol=5e-3, rtol=0)
    torch.testing.assert_close(logp, pol.log_prob(obs, act))


@pytest.mark.parametrize("act_space", [gym.spaces.Discrete(4), gym.spaces.Box(-1.0, 1.0, (2,), np.float32)])
def test_save_load_round_trip(tmp_path, act_space):
    pol = make_policy(BOX_OBS, act_space, (8, 8))
    pol.set_obs_normalization(np.ones(3), 2 * np.ones(3))
    save_policy(pol, tmp_path / "policy.pt", env_id="Test-v0")
    loaded, meta = load_policy(tmp_path)  # a run dir works too
    assert meta["env_id"] == "Test-v0"
    obs = np.random.default_rng(0).normal(size=(7, 3)).astype(np.float32)
    np.testing.assert_array_equal(pol.act(obs), loaded.act(obs))


def test_load_refuses_pickled_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("this would run",))

    with open(tmp_path / "evil.pt", "wb") as f:
        pickle.dump({"format": "imitlab.policy", "obj": Evil()}, f)
    with pytest.raises(UserError, match="cannot read policy file"):
        load_policy(tmp_path / "evil.pt")


def test_load_errors_name_the_problem(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_policy(tmp_path / "missing.pt")
    torch.save({"hello": 1}, tmp_path / "other.pt")
    with pytest.raises(UserError, match="not an imitlab policy"):
        load_policy(tmp_path / "other.pt")


def test_tanh_log_prob_correction_matches_a_numerical_density():
    """The squashed density, integrated numerically over the action range, is 1; and at each point
    it equals the Gaussian density of atanh(y) times |d atanh(y) / dy| (computed by finite differences)."""
    act_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
    pol = GaussianPolicy(BOX_OBS, act_space, (8,), squash=True, init_log_std=-0.5)  # mass beyond |y| = 0.999 is negligible
    with torch.no_grad():
        pol.net[-1].bias.fill_(0.4)
    obs = torch.zeros(1, 3)
    ys = torch.linspace(-0.999, 0.999, 20001)
    logp = pol.log_prob(obs.expand(len(ys), 3), ys.reshape(-1, 1))
    dens = logp.double().exp()
    integral = torch.trapezoid(dens, ys.double())
    assert integral.item() == pytest.approx(1.0, abs=2e-3)
    # Finite-difference Jacobian of atanh at a few points.
    mean, log_std = pol.mean_log_std(obs)
    gauss = torch.distributions.Normal(mean.double(), log_std.exp().double())
    for y in (-0.9, -0.3, 0.0, 0.5, 0.95):
        h = 1e-6
        jac = (np.arctanh(y + h) - np.arctanh(y - h)) / (2 * h)
        expected = gauss.log_prob(torch.tensor([[np.arctanh(y)]], dtype=torch.float64)).sum() + np.log(jac)
        got = pol.log_prob(obs, torch.tensor([[y]]))
        assert got.item() == pytest.approx(expected.item(), abs=1e-4)


def test_squashed_sample_log_prob_agrees_and_actions_stay_in_bounds():
    act_space = gym.spaces.Box(np.array([-2.0, 0.0], np.float32), np.array([2.0, 1.0], np.float32))
    pol = GaussianPolicy(BOX_OBS, act_space, (16,), squash=True, state_dependent_std=True)
    obs = torch.randn(256, 3)
    act, logp = pol.sample(obs, torch.Generator().manual_seed(1))
    assert (act >= torch.tensor(act_space.low)).all() and (act <= torch.tensor(act_space.high)).all()
    torch.testing.assert_close(logp, pol.log_prob(obs, act), rtol=1e-3, atol=1e-3)
    # rsample carries gradients to the network (for SAC-style actors).
    a, lp = pol.rsample(obs)
    (a.sum() + lp.sum()).backward()
    assert pol.net[0].weight.grad is not None


def test_gaussian_options_survive_save_and_load(tmp_path):
    act_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    pol = make_policy(BOX_OBS, act_space, (8,), squash=True, state_dependent_std=True)
    save_policy(pol, tmp_path / "policy.pt", env_id="Test-v0")
    loaded, _ = load_policy(tmp_path / "policy.pt")
    assert loaded.squash and loaded.state_dependent_std
    obs = torch.randn(4, 3)
    torch.testing.assert_close(pol.log_prob(obs, torch.zeros(4, 2)), loaded.log_prob(obs, torch.zeros(4, 2)))


# --------------------------------------------------------------- hostile files (issue #10)
def _saved_payload(tmp_path):
    save_policy(make_policy(BOX_OBS, gym.spaces.Discrete(3), (8,)), tmp_path / "policy.pt", env_id="Test-v0")
    return torch.load(tmp_path / "policy.pt", weights_only=True)


@pytest.mark.parametrize("edit, match", [
    (lambda p: p.pop("obs_space"), "lacks its 'obs_space'"),
    (lambda p: p.__setitem__("hidden", [16]), "do not fit the network it declares: 'net.0.weight' is torch.float32 (8, 3)"),
    (lambda p: p.__setitem__("hidden", [8, 8]), "missing ['net.4.bias', 'net.4.weight']"),
    (lambda p: p.__setitem__("hidden", [2**40, 2**40]), "cannot build"),
    (lambda p: p["state_dict"]["net.0.weight"].fill_(float("inf")), "'net.0.weight' contains nan or inf"),
    (lambda p: p.__setitem__("act_space", {"type": "Box", "shape": [2]}), "its act_space is a Box with dtype None"),
    (lambda p: p.__setitem__("kind", "QPolicy")
     or p.__setitem__("act_space", {"type": "Box", "shape": [1], "low": [0.0], "high": [1.0], "dtype": "float32"}),
     "a QPolicy acts in a Discrete space"),
])
def test_malformed_policy_files_are_one_clear_error(tmp_path, edit, match):
    payload = _saved_payload(tmp_path)
    edit(payload)
    torch.save(payload, tmp_path / "edited.pt")
    with pytest.raises(UserError, match=re.escape(match)):
        load_policy(tmp_path / "edited.pt")


def test_a_flipped_byte_in_the_weights_is_caught_by_the_zip_checksums(tmp_path):
    # torch.load does not check the checksums: this byte would load as a silently different weight.
    _saved_payload(tmp_path)
    path = tmp_path / "policy.pt"
    with zipfile.ZipFile(path) as zf:
        info = next(i for i in zf.infolist() if i.filename.endswith("data/2"))
    data = bytearray(path.read_bytes())
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26 : info.header_offset + 30])  # local header
    data[info.header_offset + 30 + name_len + extra_len + 4] ^= 0x01  # the lowest mantissa bit of the second weight
    path.write_bytes(bytes(data))
    with pytest.raises(UserError, match="is damaged"):
        load_policy(path)


def test_pickled_objects_in_a_zip_policy_file_are_refused_in_one_line(tmp_path):
    payload = _saved_payload(tmp_path)
    payload["extra"] = {"callback": print}
    torch.save(payload, tmp_path / "evil.pt")
    with pytest.raises(UserError, match="weights-only load refuses") as e:
        load_policy(tmp_path / "evil.pt")
    assert "\n" not in str(e.value) and "weights_only=False" not in str(e.value)
