"""AIRL's discriminator (imitlab.discriminator.AIRLDiscriminator): its logit is g + gamma h(s') - h(s) - log pi,
with terminations and absorbing states handled as documented."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from imitlab.discriminator import AIRLDiscriminator, DiscriminatorBatch

OBS = gym.spaces.Box(-1, 1, (3,), np.float32)
ACTS = gym.spaces.Discrete(2)


def _batch(n=5, terminated=None, seed=0):
    g = torch.Generator().manual_seed(seed)
    return DiscriminatorBatch(obs=torch.randn(n, 3, generator=g), acts=torch.randint(0, 2, (n,), generator=g),
                              next_obs=torch.randn(n, 3, generator=g),
                              terminated=torch.zeros(n, dtype=torch.bool) if terminated is None else terminated,
                              logp=torch.randn(n, generator=g))


@pytest.mark.parametrize("state_only", [True, False])
def test_logit_is_g_plus_gamma_h_next_minus_h_minus_logp(state_only):
    torch.manual_seed(0)
    d = AIRLDiscriminator(OBS, ACTS, gamma=0.9, state_only=state_only)
    b = _batch()
    with torch.no_grad():
        got = d.logits(d.inputs(b))
        g = d.g(b.obs, b.acts)
        h, h_next = d.h(b.obs).squeeze(-1), d.h(b.next_obs).squeeze(-1)
    torch.testing.assert_close(got, g + 0.9 * h_next - h - b.logp)
    if state_only:  # g reads the state alone: other actions, same reward
        torch.testing.assert_close(d.g(b.obs, 1 - b.acts), g)


def test_true_termination_drops_h_next_without_absorbing_states():
    torch.manual_seed(1)
    d = AIRLDiscriminator(OBS, ACTS, gamma=0.9)
    term = torch.tensor([True, False, True, False, False])
    b = _batch(terminated=term)
    with torch.no_grad():
        got = d.logits(d.inputs(b))
        expect = d.g(b.obs, b.acts) + 0.9 * (~term).float() * d.h(b.next_obs).squeeze(-1) - d.h(b.obs).squeeze(-1) - b.logp
    torch.testing.assert_close(got, expect)


def test_with_absorbing_states_termination_leads_to_the_absorbing_potential():
    torch.manual_seed(2)
    d = AIRLDiscriminator(OBS, ACTS, gamma=0.9, absorbing=True)
    term = torch.tensor([True, False, False, False, False])
    b = _batch(terminated=term)
    with torch.no_grad():
        got = d.logits(d.inputs(b))
        h_abs = float(d.h(torch.cat([torch.zeros(1, 3), torch.ones(1, 1)], -1)))
        g_abs = d.absorbing_reward()
        row_abs = d.logits(d.absorbing_input(1))
        g0 = d.g(b.obs[:1], b.acts[:1])
        h0 = d.h(torch.cat([b.obs[:1], torch.zeros(1, 1)], -1)).squeeze(-1)
    torch.testing.assert_close(got[0], (g0 + 0.9 * h_abs - h0 - b.logp[:1])[0])
    # The absorbing state follows itself and chooses no action (log pi = 0).
    assert float(row_abs) == pytest.approx(g_abs + 0.9 * h_abs - h_abs, abs=1e-6)
