"""Behavioral cloning (Pomerleau 1991; Bain & Sammut 1995): supervised learning of the expert's
action from the state.

Discrete actions: cross-entropy. Continuous actions: Gaussian negative log-likelihood (default)
or squared error of the mean. Observations are normalised with the training demonstrations'
statistics.

Training runs until the policy stops improving on a held-out share of the demonstrations (early
stopping), and the weights that did best there are the ones kept: a fixed, small number of epochs
undertrains small demo sets (an epoch of one episode is a gradient step or two), and a large one
can overfit them. The held-out share is whole episodes when there are enough of them (consecutive
states of one episode are nearly alike, so held-out steps of a training episode flatter the fit),
else single transitions. "Best" is the error of the action the evaluation takes (wrong actions,
or the mean action's squared error), the loss breaking ties: the held-out log-likelihood alone
keeps getting worse as the policy grows confident while its actions keep getting better (on
Pendulum-v1 from 10 demos it rose 200-fold while the normalized score went from 0.3 to 0.8).
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from typing import Literal, get_args

import gymnasium as gym
import numpy as np
import torch

from imitlab.algorithms._inputs import expert_transitions, obs_stats
from imitlab.data.demos import Demonstrations, Transitions
from imitlab.errors import UserError, positive
from imitlab.losses import bc_discrete_loss, bc_mse_loss, bc_nll_loss
from imitlab.policies import CategoricalPolicy, GaussianPolicy, Policy, PolicySpec
from imitlab.training import TrainingRun, TrainResult
from imitlab.utils import seed_everything

# The held-out split draws from its own stream of the seed, so that it does not shift the
# minibatch order (and changing the split does not change anything else).
_SPLIT_STREAM = 0xB0C

# What BC trains: PolicySpec.build and make_policy give one of the two kinds.
_KINDS = "BC trains a CategoricalPolicy (discrete actions) or a GaussianPolicy (continuous ones)"

ContinuousLoss = Literal["nll", "mse"]
CONTINUOUS_LOSSES: tuple[str, ...] = get_args(ContinuousLoss)


@dataclass(frozen=True)
class BCConfig:
    """Behavioral cloning's hyperparameters. The defaults train to convergence with early stopping."""

    epochs: int = 1000
    """Most passes over the training share: with early stopping (``validation_fraction`` > 0) a
    ceiling, generous so that it seldom binds; without it, the exact number of passes."""
    batch_size: int = 128
    """Transitions per gradient step."""
    lr: float = 3e-3
    """Adam's learning rate."""
    weight_decay: float = 0.0
    """Adam's (L2) weight decay."""
    policy: PolicySpec = field(default_factory=PolicySpec)
    """The policy network."""
    continuous_loss: ContinuousLoss = "nll"
    """Loss for continuous actions: nll (Gaussian log-likelihood) or mse (squared error of the mean)."""
    validation_fraction: float = 0.2
    """Share of the demos held out for early stopping and to choose the weights kept (0: none, train
    all epochs and keep the last weights).

    Whole episodes when this share of the episodes is one or more (so from 5 episodes at 0.2), else
    single transitions; drawn from the run's seed. 0 holds nothing out: all demos train for exactly
    ``epochs`` epochs and the last weights are kept (BC before early stopping)."""
    patience: int = 10
    """Epochs without held-out improvement before stopping (``patience_steps`` gradient steps too).

    Both must pass: an epoch of a small demo set is a step or two, of a large one hundreds."""
    patience_steps: int = 500
    """Gradient steps without held-out improvement that stopping also asks for (besides ``patience``)."""
    min_steps: int = 1000
    """Gradient steps before any stop; until then the latest weights count as the best.

    So a lucky early dip of a small, noisy held-out set cannot end training or pick barely trained
    weights. Small demo sets need it most: on the classic bench's Pendulum-v1 demos, seed 1, BC
    kept the weights of epoch 16 without it (normalized score 0.39 from 10 demos) and of epoch
    106 with it (0.80); from 4 demos, seeds 0-2 scored 0.01 on average without it, 0.32 with it."""


@dataclass(frozen=True)
class ValidationSplit:
    """Which transitions train and which are held out (indices into the demos' transitions)."""

    train: np.ndarray
    validation: np.ndarray
    unit: str  # "episodes", "transitions", or "none" (nothing held out)


def validation_split(lengths: np.ndarray | None, n_transitions: int, fraction: float, seed: int) -> ValidationSplit:
    """Hold out about ``fraction`` of the demos, drawn from ``seed``.

    Args:
        lengths: the episodes' lengths in transitions, in order (None: the demos are loose
            transitions, e.g. subsampled ones, whose episodes are unknown).
        n_transitions: the number of transitions (``lengths.sum()`` when lengths are given).
        fraction: the share to hold out, in [0, 1).
        seed: the run's seed; the same seed gives the same split.

    Returns:
        Sorted, disjoint train and validation indices that cover every transition. Whole episodes
        are held out when ``fraction`` of them is at least one (leaving at least one to train on),
        else single transitions; nothing when ``fraction`` is 0 or there is a single transition.
    """
    everything = np.arange(n_transitions)
    if fraction == 0 or n_transitions < 2:
        return ValidationSplit(everything, everything[:0], "none")
    rng = np.random.default_rng([_SPLIT_STREAM, seed])
    if lengths is not None:
        episodes = np.flatnonzero(lengths)  # empty episodes hold nothing
        if len(episodes) * fraction >= 1:
            n_val = min(len(episodes) - 1, round(len(episodes) * fraction))
            held = np.zeros(len(lengths), np.bool_)
            held[rng.choice(episodes, size=n_val, replace=False)] = True
            mask = np.repeat(held, lengths)
            return ValidationSplit(everything[~mask], everything[mask], "episodes")
    n_val = min(n_transitions - 1, max(1, round(n_transitions * fraction)))
    mask = np.zeros(n_transitions, np.bool_)
    mask[rng.choice(n_transitions, size=n_val, replace=False)] = True
    return ValidationSplit(everything[~mask], everything[mask], "transitions")


def train_bc(
    *,
    env_id: str,
    demos: Demonstrations | Transitions,
    seed: int = 0,
    config: BCConfig = BCConfig(),
    out: str | os.PathLike | None = None,
    eval_every: int = 0,
    eval_episodes: int = 50,
    progress: bool = False,
) -> TrainResult:
    """Train a policy by behavioral cloning on ``demos``, until it stops improving on held-out demos.

    Every epoch logs the training loss (``bc_loss``), the held-out action error and loss
    (``val_error``, ``val_loss``: see :func:`validation_scores`) and the epoch whose weights are
    kept so far (``best_epoch``) to progress.csv; config.json records the split, and summary.json
    and policy.pt the epochs trained and the epoch kept (``kept_epoch``). The final evaluation, of
    the kept weights, is recorded at the epoch training stopped.

    Args:
        env_id: the gymnasium env the demos come from (checked against the demos).
        demos: demonstrations, or transitions subsampled from them.
        seed: seeds the network's initialisation, the minibatch order and the held-out split.
        config: hyperparameters.
        out: a run directory to write (config, metrics, TensorBoard, policy.pt), or None.
        eval_every: also evaluate the current weights in the env every this many epochs (0, the
            default: only the kept weights, at the end). The env plays no part in training or in
            choosing the weights, and with early stopping the number of epochs is not known in
            advance, so periodic evaluations only draw a learning curve, at a cost that can
            exceed the training's (50 episodes of a MuJoCo task take longer than many epochs).
        eval_episodes: episodes per evaluation.
        progress: show a progress bar.
    """
    positive("epochs", config.epochs)
    positive("batch_size", config.batch_size)
    positive("patience", config.patience)
    if config.patience_steps < 0 or config.min_steps < 0:
        raise UserError(f"patience_steps and min_steps must be >= 0, got {config.patience_steps} and {config.min_steps}")
    if not 0 <= config.validation_fraction < 1:
        raise UserError(f"validation_fraction must be in [0, 1), got {config.validation_fraction}; "
                        "0 holds nothing out and trains for exactly `epochs` epochs")
    if config.continuous_loss not in CONTINUOUS_LOSSES:
        raise UserError(f"unknown continuous_loss {config.continuous_loss!r}; use 'nll' or 'mse'")
    lengths = demos.lengths() if isinstance(demos, Demonstrations) else None
    trans, obs_space, act_space = expert_transitions(env_id, demos)
    split = validation_split(lengths, len(trans), config.validation_fraction, seed)
    rng = seed_everything(seed)
    policy = config.policy.build(obs_space, act_space)
    policy.set_obs_normalization(*obs_stats(trans.obs[split.train]))
    optimizer = torch.optim.Adam(policy.parameters(), lr=config.lr, weight_decay=config.weight_decay, foreach=True)
    obs = torch.as_tensor(trans.obs[split.train], dtype=torch.float32)
    acts = torch.as_tensor(trans.acts[split.train])
    val_obs = torch.as_tensor(trans.obs[split.validation], dtype=torch.float32)
    val_acts = torch.as_tensor(trans.acts[split.validation])
    n, n_val = len(obs), len(val_obs)

    run = TrainingRun(
        env_id=env_id, seed=seed, total=config.epochs, unit="epoch", out=out,
        config={"algo": "bc", "env_id": env_id, "seed": seed, "n_transitions": len(trans), "n_train": n,
                "n_validation": n_val, "validation_unit": split.unit, **asdict(config)},
        eval_every=eval_every, eval_episodes=eval_episodes, progress=progress,
    )
    steps_per_epoch = math.ceil(n / config.batch_size)
    stopper = EarlyStopping(patience=config.patience, patience_steps=config.patience_steps,
                            min_steps=config.min_steps) if n_val else None
    for epoch in range(1, config.epochs + 1):
        with run.timed():
            train_loss = _train_epoch(policy, optimizer, obs, acts, rng, config)
            stats = {"bc_loss": train_loss}
            stop = False
            if stopper is not None:
                val_error, val_loss = validation_scores(policy, val_obs, val_acts, config.continuous_loss)
                stop = stopper.update((val_error, val_loss), epoch=epoch, steps=epoch * steps_per_epoch, policy=policy)
                stats.update(val_error=val_error, val_loss=val_loss, best_epoch=stopper.best_epoch)
        run.advance(1, stats, step=epoch)
        if stop or epoch == config.epochs:
            break  # the final evaluation, of the kept weights, stands for this epoch's
        if run.evaluation_due(epoch):
            run.evaluate(policy, env_steps=0, epoch=epoch)
    kept_epoch = epoch
    if stopper is not None:
        # update() keeps the weights it is first given (a NaN score with min_steps 0 aside)
        assert stopper.best_state is not None, "no held-out score was ever recorded as the best"
        policy.load_state_dict(stopper.best_state)
        kept_epoch = stopper.best_epoch
    final = run.evaluate(policy, env_steps=0, epoch=epoch)
    extra = {"algo": "bc", "epochs": epoch, "kept_epoch": kept_epoch, "gradient_steps": epoch * steps_per_epoch,
             "stopped_early": epoch < config.epochs}
    if stopper is not None:
        extra["best_val_error"], extra["best_val_loss"] = stopper.best
    return run.result(policy, final=final, extra=extra)


class EarlyStopping:
    """Tracks the best held-out score, a copy of the weights that reached it, and when to stop."""

    def __init__(self, *, patience: int, patience_steps: int, min_steps: int) -> None:
        self.patience, self.patience_steps, self.min_steps = patience, patience_steps, min_steps
        self.best: tuple[float, ...] = (math.inf,)
        self.best_epoch = 0
        self.best_steps = 0
        self.best_state: dict[str, torch.Tensor] | None = None

    def update(self, score: tuple[float, ...], *, epoch: int, steps: int, policy: torch.nn.Module) -> bool:
        """Record the held-out ``score`` after ``epoch`` (``steps`` gradient steps in all), lower is
        better, compared in order (later entries break ties); True when training should stop."""
        # Until min_steps the latest weights count as the best, and the first after replace them
        # whatever their score: a lucky early dip of a small, noisy held-out set must not pick
        # barely trained weights.
        if steps < self.min_steps or self.best_steps < self.min_steps or score < self.best:
            self.best, self.best_epoch, self.best_steps = score, epoch, steps
            self.best_state = {k: v.detach().clone() for k, v in policy.state_dict().items()}
            return False
        return epoch - self.best_epoch >= self.patience and steps - self.best_steps >= self.patience_steps


def _train_epoch(policy: Policy, optimizer: torch.optim.Optimizer, obs: torch.Tensor, acts: torch.Tensor,
                 rng: np.random.Generator, config: BCConfig) -> float:
    """One pass over ``obs``/``acts`` in shuffled minibatches; the mean training loss."""
    total_loss = torch.zeros(())
    bc_epoch(policy, optimizer, obs, acts, rng, batch_size=config.batch_size, continuous_loss=config.continuous_loss,
             total_loss=total_loss)
    return float(total_loss) / len(obs)


def bc_epoch(policy: Policy, optimizer: torch.optim.Optimizer, obs: torch.Tensor, acts: torch.Tensor,
             rng: np.random.Generator, *, batch_size: int, continuous_loss: str, total_loss: torch.Tensor) -> None:
    """One pass of BC gradient steps over ``obs``/``acts`` in minibatches shuffled by ``rng``
    (DAgger's rounds take them too), adding each minibatch's loss times its size to ``total_loss``
    in place: a caller's running sum over several passes then adds in the same order as one loop."""
    n = len(obs)
    perm = torch.from_numpy(rng.permutation(n))
    for start in range(0, n, batch_size):
        idx = perm[start : start + batch_size]
        loss = bc_loss(policy, obs[idx], acts[idx], continuous_loss)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total_loss += loss.detach() * len(idx)


@torch.no_grad()
def validation_scores(policy: Policy, obs: torch.Tensor, acts: torch.Tensor, continuous_loss: str) -> tuple[float, float]:
    """The error of the policy's deterministic action on held-out ``obs``/``acts``, and its loss there.

    The error is what evaluation acts on: the share of wrong actions (discrete), or the squared
    error of the mean action clipped to the action bounds, in the unit action space (continuous).
    The loss alone misleads: held-out log-likelihoods fall ever lower as the policy grows confident
    (its std shrinks, its logits grow), long after its deterministic actions stopped getting worse.
    """
    loss = float(bc_loss(policy, obs, acts, continuous_loss))
    if policy.discrete:
        assert isinstance(policy, CategoricalPolicy), _KINDS
        return float((policy.logits(obs).argmax(-1) != acts).float().mean()), loss
    assert isinstance(policy, GaussianPolicy), _KINDS
    unit = policy.mean_unit_action(obs)
    low, high = _unit_bounds(policy)
    target = policy.to_unit(acts)
    return float((unit.clamp(low, high) - target).square().sum(-1).mean()), loss


def _unit_bounds(policy: GaussianPolicy) -> tuple[torch.Tensor, torch.Tensor]:
    """The action bounds in the unit action space: [-1, 1] where both bounds are finite (as
    ``to_unit`` maps them), else none. The env clips actions to its bounds, so a mean beyond them
    acts as the bound does."""
    space = policy.action_space
    assert isinstance(space, gym.spaces.Box), "a Gaussian policy acts in a Box"
    finite = torch.as_tensor((np.isfinite(space.low) & np.isfinite(space.high)).reshape(-1))
    return torch.where(finite, -1.0, -math.inf), torch.where(finite, 1.0, math.inf)


def bc_loss(policy: Policy, obs: torch.Tensor, acts: torch.Tensor, continuous_loss: str) -> torch.Tensor:
    """The BC loss of ``policy`` on expert pairs (DAgger retrains with it): cross-entropy for discrete
    actions, Gaussian NLL (``"nll"``) or squared error of the mean in unit space (``"mse"``) otherwise."""
    if policy.discrete:
        assert isinstance(policy, CategoricalPolicy), _KINDS
        return bc_discrete_loss(policy.logits(obs), acts)
    assert isinstance(policy, GaussianPolicy), _KINDS
    if continuous_loss == "mse":
        return bc_mse_loss(policy.mean_unit_action(obs), policy.to_unit(acts))
    return bc_nll_loss(policy.log_prob(obs, acts))
