"""Behavioral cloning (Pomerleau 1991; Bain & Sammut 1995): supervised learning of the expert's
action from the state.

Discrete actions: cross-entropy. Continuous actions: Gaussian negative log-likelihood (default)
or squared error of the mean. Observations are normalised with the demonstrations' statistics.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

import torch

from imitlab.algorithms._inputs import expert_transitions, obs_stats, positive
from imitlab.data.demos import Demonstrations, Transitions
from imitlab.errors import UserError
from imitlab.losses import bc_discrete_loss, bc_mse_loss, bc_nll_loss
from imitlab.policies import Policy, PolicySpec
from imitlab.training import TrainingRun, TrainResult
from imitlab.utils import seed_everything


@dataclass(frozen=True)
class BCConfig:
    epochs: int = 10
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 0.0
    policy: PolicySpec = field(default_factory=PolicySpec)
    continuous_loss: str = "nll"  # "nll" or "mse"


def train_bc(
    *,
    env_id: str,
    demos: Demonstrations | Transitions,
    seed: int = 0,
    config: BCConfig = BCConfig(),
    out: str | os.PathLike | None = None,
    eval_every: int = 1,
    eval_episodes: int = 50,
    progress: bool = False,
) -> TrainResult:
    """Train a policy by behavioral cloning on ``demos``.

    Args:
        env_id: the gymnasium env the demos come from (checked against the demos).
        demos: demonstrations, or transitions subsampled from them.
        seed: seeds the network's initialisation and the minibatch order.
        config: hyperparameters.
        out: a run directory to write (config, metrics, TensorBoard, policy.pt), or None.
        eval_every: evaluate every this many epochs (0: only at the end).
        eval_episodes: episodes per evaluation.
        progress: show a progress bar.
    """
    positive("epochs", config.epochs)
    positive("batch_size", config.batch_size)
    if config.continuous_loss not in ("nll", "mse"):
        raise UserError(f"unknown continuous_loss {config.continuous_loss!r}; use 'nll' or 'mse'")
    trans, obs_space, act_space = expert_transitions(env_id, demos)
    rng = seed_everything(seed)
    policy = config.policy.build(obs_space, act_space)
    policy.set_obs_normalization(*obs_stats(trans.obs))
    optimizer = torch.optim.Adam(policy.parameters(), lr=config.lr, weight_decay=config.weight_decay, foreach=True)
    obs = torch.as_tensor(trans.obs, dtype=torch.float32)
    acts = torch.as_tensor(trans.acts)

    run = TrainingRun(
        env_id=env_id, seed=seed, total=config.epochs, unit="epoch", out=out,
        config={"algo": "bc", "env_id": env_id, "seed": seed, "n_transitions": len(trans), **asdict(config)},
        eval_every=eval_every, eval_episodes=eval_episodes, progress=progress,
    )
    n = len(trans)
    final = None
    for epoch in range(1, config.epochs + 1):
        run.start_clock()
        perm = torch.from_numpy(rng.permutation(n))
        total_loss = torch.zeros(())
        for start in range(0, n, config.batch_size):
            idx = perm[start : start + config.batch_size]
            loss = _bc_loss(policy, obs[idx], acts[idx], config.continuous_loss)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total_loss += loss.detach() * len(idx)
        run.stop_clock()
        run.advance(1, {"bc_loss": float(total_loss) / n}, step=epoch)
        if run.evaluation_due(epoch) or epoch == config.epochs:
            final = run.evaluate(policy, env_steps=0, epoch=epoch)
    run.finish(policy, final=final, extra={"algo": "bc", "epochs": config.epochs})
    return TrainResult(policy, final, run.history, run.train_seconds)


def _bc_loss(policy: Policy, obs: torch.Tensor, acts: torch.Tensor, continuous_loss: str) -> torch.Tensor:
    if policy.discrete:
        return bc_discrete_loss(policy.logits(obs), acts)
    if continuous_loss == "mse":
        return bc_mse_loss(policy.mean_unit_action(obs), policy.to_unit(acts))
    return bc_nll_loss(policy.log_prob(obs, acts))
