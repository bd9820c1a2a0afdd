"""DAgger's labels are actions the env could execute: an expert's out-of-bounds continuous action
is clipped to the bounds before it joins the aggregated dataset, as demos record it."""

import numpy as np
import torch

from imitlab.algorithms.dagger import DAggerConfig, train_dagger


def test_dagger_labels_an_overshooting_expert_with_actions_inside_the_bounds(tmp_path):
    def overshooting(obs):  # Pendulum's torque bound is 2; this expert asks for 5
        return np.full((len(obs), 1), 5.0, np.float32)

    result = train_dagger(env_id="Pendulum-v1", expert=overshooting, total_steps=256, seed=0,
                          config=DAggerConfig(steps_per_round=256, epochs=20, continuous_loss="mse"),
                          eval_episodes=1)
    obs = torch.as_tensor(np.random.default_rng(0).uniform(-1, 1, (16, 3)), dtype=torch.float32)
    with torch.no_grad():
        mean = result.policy.mean_unit_action(obs)  # the fitted mean before any clipping, in [-1, 1] units
    # fitted toward labels at the bound (unit 1.0; it gets to about 0.8), not beyond it (5.0 is
    # unit 2.5, which the same training fits to about 2)
    assert bool(((mean > 0.5) & (mean < 1.2)).all()), mean.flatten()
