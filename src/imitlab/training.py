"""What every training loop shares: seeding, a training-only stopwatch, periodic evaluation,
a progress bar, and the run directory (when one is asked for)."""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tqdm.auto import tqdm

from imitlab.checkpoint import global_rng_state, load_checkpoint, save_checkpoint, set_global_rng_state
from imitlab.envs.vector import active_env_kwargs
from imitlab.errors import UserError
from imitlab.evaluation import EvalResult, evaluate
from imitlab.policies import Policy, save_policy
from imitlab.runlog import RunLog


@dataclass
class TrainResult:
    """What a training function returns: the final policy, its evaluation, and the eval history
    (and, for learners that have one, the critic saved beside the policy)."""

    policy: Policy
    final: EvalResult | None
    history: list[dict[str, Any]]
    train_seconds: float
    critic: Any = None
    reward: Any = None
    """The learned reward (IRL algorithms: a :class:`~imitlab.rewards.LearnedReward`), else None."""
    reward_correlation: dict[str, Any] | None = None
    """Its correlation with the env's reward (:func:`imitlab.rewards.analysis.reward_correlation`)."""


class TrainingRun:
    """Bookkeeping around a training loop.

    ``train_seconds`` counts only time spent training (sampling and updates), not evaluations,
    so that "seconds to reach a return" measures the algorithm and not the evaluation budget.
    """

    def __init__(
        self,
        *,
        env_id: str,
        seed: int,
        total: int,
        unit: str,
        out: str | os.PathLike | None,
        config: dict[str, Any],
        eval_every: int,
        eval_episodes: int,
        progress: bool,
        tensorboard: bool = True,
        keep_best: bool = False,
        checkpoint_every: int | None = None,
        resume: bool = False,
        budget_key: str = "total_steps",
    ) -> None:
        """``checkpoint_every`` (default: ``eval_every``) is how often a run with a directory writes
        ``checkpoint.pt``, for the loops that support it; ``resume`` continues from that file."""
        self.env_id = env_id
        self.seed = seed
        self.env_kwargs = active_env_kwargs(env_id)
        if self.env_kwargs:  # recorded only when given, so runs (and checkpoints) without them read as before
            config = {**config, "env_kwargs": self.env_kwargs}
        self.eval_every = eval_every
        self.eval_episodes = eval_episodes
        self.train_seconds = 0.0
        self._next_eval = eval_every
        self._t0: float | None = None
        self.history: list[dict[str, Any]] = []
        # keep_best: the run ends with the best-evaluated weights, as experts trained on the env's
        # reward are usually kept (RL returns swing between evaluations).
        self.keep_best = keep_best
        self._best: tuple[EvalResult, dict, dict | None] | None = None
        self._config = config
        self.checkpoint_every = 0 if out is None else (eval_every if checkpoint_every is None else checkpoint_every)
        self._next_checkpoint = self.checkpoint_every
        self._restored: dict[str, Any] | None = None
        self._budget_key = budget_key  # the one setting a resumed run may change (grow)
        self.resumed_step = 0
        if resume:
            if out is None:
                raise UserError("resuming needs the run directory of the stopped run (--out DIR)")
            self._restore(load_checkpoint(out))
        self.log = (RunLog(out, config, tensorboard=tensorboard, resume_step=self.resumed_step if resume else None)
                    if out is not None else None)
        self.out = out
        self.bar = tqdm(total=total, initial=self.resumed_step, unit=unit, disable=None if progress else True,
                        dynamic_ncols=True, leave=False)

    def start_clock(self) -> None:
        self._t0 = time.perf_counter()

    def stop_clock(self) -> None:
        if self._t0 is not None:
            self.train_seconds += time.perf_counter() - self._t0
            self._t0 = None

    @contextmanager
    def timed(self) -> Iterator[None]:
        """Count the block as training time (``train_seconds`` leaves out evaluations and logging)."""
        self.start_clock()
        try:
            yield
        finally:
            self.stop_clock()

    def advance(self, n: int, stats: dict[str, float] | None = None, *, step: int) -> None:
        self.bar.update(n)
        if stats and self.log is not None:
            self.log.progress(step, stats)

    def evaluate(self, policy: Policy, *, env_steps: int, epoch: int | None = None, critic: Any = None) -> EvalResult:
        """Evaluate ``policy`` now and record it (the clock must be stopped)."""
        result = evaluate(policy, self.env_id, episodes=self.eval_episodes, seed=self.seed + 10_000)
        if self.keep_best and (self._best is None or result.mean_return > self._best[0].mean_return):
            self._best = (
                result,
                copy.deepcopy(policy.state_dict()),
                None if critic is None else copy.deepcopy(critic.state_dict()),
            )
        row = {"env_steps": env_steps, "epoch": epoch, "train_seconds": self.train_seconds, **result.to_dict()}
        self.history.append(row)
        if self.log is not None:
            self.log.evaluation(env_steps=env_steps, epoch=epoch, train_seconds=self.train_seconds, result=result)
        self.bar.set_postfix(ret=f"{result.mean_return:.1f}", refresh=False)
        return result

    def evaluation_due(self, progress: int) -> bool:
        """True once ``progress`` (env steps or epochs) passes the next evaluation point."""
        due, self._next_eval = _passed(progress, self._next_eval, self.eval_every)
        return due

    def checkpoint_due(self, progress: int, *, last: bool = False) -> bool:
        """True once ``progress`` (env steps) passes the next checkpoint point, and at the ``last``
        step of a checkpointing run (so that a larger --steps can extend it from its end)."""
        due, self._next_checkpoint = _passed(progress, self._next_checkpoint, self.checkpoint_every)
        return due or (last and self.checkpoint_every > 0)

    def save_checkpoint(self, step: int, learner: dict[str, Any]) -> None:
        """Write the run's bookkeeping and the loop's ``learner`` state (state dicts, tensors,
        numbers) to ``checkpoint.pt`` in the run directory."""
        # checkpoint_due() is never true without a run directory (checkpoint_every is 0 then)
        assert self.out is not None, "save_checkpoint needs a run directory"
        best = None
        if self._best is not None:
            result, policy_state, critic_state = self._best
            best = {"result": result.to_dict(), "policy": policy_state, "critic": critic_state}
        save_checkpoint(self.out, {
            "step": step,
            "config": _comparable(self._config),
            "run": {"train_seconds": self.train_seconds, "next_eval": self._next_eval,
                    "next_checkpoint": self._next_checkpoint, "history": self.history, "best": best},
            "rng": global_rng_state(),
            "learner": learner,
        })

    def _restore(self, state: dict[str, Any]) -> None:
        saved, wanted = dict(state["config"]), _comparable(self._config)
        saved.pop(self._budget_key, None)
        wanted.pop(self._budget_key, None)
        changed = sorted(k for k in saved.keys() | wanted.keys() if saved.get(k) != wanted.get(k))
        if changed:
            raise UserError(f"the checkpoint was made with different settings ({', '.join(changed)}); resume with the "
                            f"same command (only the budget, {self._budget_key}, may change), or start a new run")
        run = state["run"]
        self.train_seconds = float(run["train_seconds"])
        self._next_eval = int(run["next_eval"])
        self._next_checkpoint = int(run["next_checkpoint"])
        self.history = list(run["history"])
        if run["best"] is not None:
            best = run["best"]
            self._best = (EvalResult(**best["result"]), best["policy"], best["critic"])
        self.resumed_step = int(state["step"])
        self._restored = state

    def restored(self) -> dict[str, Any] | None:
        """The loop's state saved in the checkpoint being resumed (None for a fresh run); restores
        the global RNGs too, so call it after building the networks."""
        if self._restored is None:
            return None
        state, self._restored = self._restored, None  # a replay buffer need not stay in memory twice
        set_global_rng_state(state["rng"])
        return state["learner"]

    def finish(
        self, policy: Policy, *, final: EvalResult | None, extra: dict[str, Any], critic: Any = None
    ) -> EvalResult | None:
        """Close the run: with ``keep_best``, load the best-evaluated weights back into ``policy``
        (and ``critic``); save the run's files. Returns the evaluation of the weights kept."""
        self.bar.close()
        if final is None and self.history:
            # A resumed run whose budget was already spent evaluated nothing new: its last evaluation stands.
            last = self.history[-1]
            final = EvalResult(**{k: last[k] for k in EvalResult.__dataclass_fields__})
        if self.keep_best and self._best is not None:
            final, policy_state, critic_state = self._best
            policy.load_state_dict(policy_state)
            if critic is not None and critic_state is not None:
                critic.load_state_dict(critic_state)
            extra = {**extra, "kept": "best evaluation"}
        if self.log is None:
            return final
        if self.env_kwargs:
            extra = {**extra, "env_kwargs": self.env_kwargs}
        save_policy(policy, self.log.dir / "policy.pt", env_id=self.env_id, extra={"seed": self.seed, **extra}, critic=critic)
        summary = {
            "env_id": self.env_id,
            "seed": self.seed,
            "train_seconds": self.train_seconds,
            **extra,
        }
        if final is not None:
            summary["final_eval"] = final.to_dict()
        self.log.summary(summary)
        self.log.close()
        return final

    def result(
        self, policy: Policy, *, final: EvalResult | None, extra: dict[str, Any], critic: Any = None,
        critic_is_policy: bool = False,
    ) -> TrainResult:
        """Close the run (:meth:`finish`) and return what the training function returns.
        ``critic_is_policy``: the policy is its own critic (a DQN's Q-network), saved once."""
        final = self.finish(policy, final=final, extra=extra, critic=critic)
        return TrainResult(policy, final, self.history, self.train_seconds, critic=policy if critic_is_policy else critic)


def _passed(progress: int, next_point: int, every: int) -> tuple[bool, int]:
    """Whether ``progress`` has reached ``next_point`` of a schedule every ``every`` units (0: never),
    and the schedule's next point after ``progress``."""
    if every <= 0 or progress < next_point:
        return False, next_point
    while next_point <= progress:
        next_point += every
    return True, next_point


def _comparable(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` as JSON values (tuples become lists), as a checkpoint stores and compares it."""
    return json.loads(json.dumps(config, default=str))
