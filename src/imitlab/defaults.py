"""Per-task default hyperparameters and budgets, in one table, and :func:`config_for` to read it.

Anything not listed uses the dataclass defaults. Which algorithm's config sits under which key, and
where its budget comes from, is the algorithm registry's to say (:mod:`imitlab.algorithms.registry`).
"""

from __future__ import annotations

import shlex
from dataclasses import fields, replace
from functools import lru_cache
from typing import Any

from imitlab.algorithms.adversarial.dac import DACConfig
from imitlab.algorithms.aggrevated import AggreVaTeDConfig
from imitlab.algorithms.airl import AIRLConfig
from imitlab.algorithms.bc import BCConfig
from imitlab.algorithms.dagger import DAggerConfig
from imitlab.algorithms.gail import GAILConfig
from imitlab.algorithms.gail_offline import OfflineGAILConfig
from imitlab.algorithms.irl.apprenticeship import ApprenticeshipConfig
from imitlab.algorithms.irl.maxent import MaxEntIRLConfig
from imitlab.algorithms.offpolicy.iq_learn import IQLearnConfig
from imitlab.algorithms.offpolicy.sqil import SQILConfig
from imitlab.algorithms.registry import expert_learner, get_algorithm
from imitlab.errors import UserError
from imitlab.policies import PolicySpec
from imitlab.rl import PPOConfig, ReinforceConfig, TRPOConfig
from imitlab.rl.dqn import DQNConfig
from imitlab.rl.sac import SACConfig

# env id -> settings. An algorithm's config is under its registry entry's ``table_key`` ("bc", "gail",
# "airl", "apprenticeship", "maxent_irl", "gail_offline", "dagger", "aggrevated"; "expert", "expert_dqn", "expert_sac" for the
# expert learners); a budget that is not a config field under its ``budget.task_key``:
# "gail_steps" is the env-step budget the quickstart and benchmarks give GAIL, "dagger_steps" and
# "aggrevated_steps" those of the interactive learners (benchmarks/interactive.py). BC's budget
# is its config's ``epochs``, offline GAIL's its config's ``iterations``.
# An expert's default budget is not kept here: it is the one that made the shipped expert
# (:func:`zoo_expert_steps`), which the expert file records.
# CleanRL's / SB3's MuJoCo SAC settings, shared by the MuJoCo experts.
_MUJOCO_SAC = SACConfig(learning_starts=5_000, critic_lr=3e-4, hidden=(256, 256), critic_hidden=(256, 256),
                        buffer_size=1_000_000)
# GAIL's MuJoCo settings, found on Hopper-v5 (its entry says how): a discriminator entropy bonus
# and large PPO batches.
_MUJOCO_GAIL = GAILConfig(disc_entropy_bonus=1e-3,
                          ppo=PPOConfig(num_envs=16, num_steps=256, minibatch_size=512, anneal_lr=True))

TASK_DEFAULTS: dict[str, dict] = {
    "CartPole-v1": {
        "expert": PPOConfig(lr=1e-3, anneal_lr=True),
        "bc": BCConfig(),
        # Positive reward form (the GAILConfig default): CartPole rewards survival.
        "gail": GAILConfig(reinforce=ReinforceConfig(anneal_lr=True)),
        "gail_steps": 50_000,
        # AIRL's logit reward has no sign bias to lean on: absorbing states price the end of an
        # episode (here a fall) by what the learned reward says it is worth.
        "airl": AIRLConfig(absorbing=True),
        "airl_steps": 50_000,
        "gail_offline": OfflineGAILConfig(),
        "dagger": DAggerConfig(),
        "dagger_steps": 10_000,
        "aggrevated": AggreVaTeDConfig(),
        "aggrevated_steps": 10_000,
        # gamma 0.995 (PPO's, which discounts the feature expectations too): at 0.99 a policy that
        # falls at step ~350 has nearly the expert's mu (gamma^350 / (1 - gamma) ~ 3 of the
        # absorbing feature), so the closest-mu policy was sometimes one (normalized 0.70 on seed 5
        # of seeds 0-6); at 0.995 all seven >= 0.99.
        "apprenticeship": ApprenticeshipConfig(ppo=PPOConfig(gamma=0.995)),
        "apprenticeship_steps": 50_000,
        # From one demo, normalized after 3,000 updates on seeds 0 / 1 / 2 (50 episodes): alpha 0.1
        # 0.93 / 0.96 / 1.00; 0.5 (this) 0.99 / 1.00 / 0.99; 1.0 0.92 / 0.93 / 0.92. At 0.01 the
        # Boltzmann policy is near greedy and the implied rewards fall to zero with the loss (0.92 at
        # 5,000 updates, seed 0).
        "iq_learn_offline": IQLearnConfig(alpha=0.5, target_value=False),
        "iq_learn_offline_updates": 3_000,
        # 10 demos, seed 0, normalized score every 2,500 steps to 20,000: alpha 0.01 (near greedy)
        # 0.95 then 1.0 then 0.91; alpha 0.1 1.0 but 0.84 at 12,500; alpha 0.1 and lr 1e-4 (these) 1.0 throughout.
        "sqil": SQILConfig(alpha=0.1, lr=1e-4),
        "sqil_steps": 20_000,
    },
    "Acrobot-v1": {
        "expert": PPOConfig(lr=1e-3, anneal_lr=True),
        # Episodes end at the goal: the positive reward's survival bonus would teach the agent
        # never to reach it. Absorbing-state rewards (DAC) make termination worth what the
        # discriminator says the expert's end state is worth.
        "gail": GAILConfig(absorbing=True, ppo=PPOConfig(anneal_lr=True)),
        "gail_steps": 150_000,
        "airl": AIRLConfig(absorbing=True, ppo=PPOConfig(anneal_lr=True)),
        "airl_steps": 150_000,
        # The absorbing feature (the ApprenticeshipConfig default) prices reaching the goal.
        "apprenticeship": ApprenticeshipConfig(),
        "apprenticeship_steps": 100_000,
        "iq_learn_offline": IQLearnConfig(alpha=0.1, target_value=False),
        "iq_learn_offline_updates": 3_000,
    },
    "MountainCar-v0": {
        # RL Zoo's tuned DQN settings for MountainCar (SB3 DQN), in our units: vector steps
        # between training phases, updates per phase, updates between target copies.
        "expert_dqn": DQNConfig(lr=4e-3, batch_size=128, buffer_size=10_000, gamma=0.98, train_every=16,
                                gradient_steps=8, target_update_every=300,
                                eps_fraction=0.2, eps_end=0.07),
        # Episodes end at the goal: absorbing states, as on Acrobot. The logit form (no per-step
        # survival bonus) with reward scaling did best of the forms tried here: normalized
        # 0.94 / 0.95 / 0.86 at 200,000 steps on seeds 0-2 (positive form: 0.97 / 0.40 / 0.71).
        "gail": GAILConfig(absorbing=True, reward="logit", normalize_reward=True, ppo=PPOConfig(anneal_lr=True)),
        "gail_steps": 200_000,
    },
    "HalfCheetah-v5": {
        "expert_sac": _MUJOCO_SAC,
        # 10 demos, 1M steps, seeds 0 / 1 / 2: Hopper's GAIL settings 0.74 / 0.25 / 0.96 (50 episodes,
        # benchmarks/results/gail-mujoco); with 256x256 policy and value networks and the policy's
        # log-std starting at -1 (these) 0.94 / 0.53 / 0.95 (10 episodes); RL Zoo's PPO settings for
        # HalfCheetah on top (log-std -2, gamma 0.98, lambda 0.92, clip 0.1, 20 epochs, lr 1e-4,
        # reward normalisation) 0.21 / 0.13 / 0.26. The bar (0.9 on every seed) is not met.
        "gail": replace(_MUJOCO_GAIL, policy=PolicySpec(hidden=(256, 256), init_log_std=-1.0),
                        ppo=replace(_MUJOCO_GAIL.ppo, hidden=(256, 256))),
        "gail_steps": 1_000_000,
    },
    "Hopper-v5": {
        "expert_sac": _MUJOCO_SAC,
        # Hopper's episodes end when it falls: the positive form's survival bonus points the right
        # way here, so no absorbing states. Final normalized score after 500k steps, 10 demos,
        # seeds 0 / 1 (2) of the settings tried: 8 envs x 256 steps, no bonus 0.13 / 0.08 (it
        # peaked at 1.06, then collapsed); + discriminator entropy bonus 1e-3: 0.99 / 0.81 / 0.79;
        # + disc lr 1e-4: 1.06 / 0.55; + 16 envs and minibatches of 512 (these): 1.00 / 0.93;
        # gradient penalty 10 instead of the bonus: 0.61 (seed 0). With these at 500k steps seed 2
        # slipped from 1.02 at 350k to 0.84; at 1M steps (the learning rate annealed over twice as
        # long) seeds 0-2 end at 1.02 / 1.00 / 1.02, each >= 0.96 over its last 300k steps.
        "gail": _MUJOCO_GAIL,
        "gail_steps": 1_000_000,
    },
    "Walker2d-v5": {
        "expert_sac": _MUJOCO_SAC,
        # Hopper's GAIL settings: a walker's episodes end when it falls too, so the positive form's
        # survival bonus points the right way. 10 demos, 1M steps: 0.21 / 0.20 / 0.22 on seeds 0-2
        # (benchmarks/results/gail-walker2d); HalfCheetah's RL Zoo variant 0.05 (seed 0). Not solved.
        "gail": _MUJOCO_GAIL,
        "gail_steps": 1_000_000,
    },
    "BipedalWalker-v3": {
        # RL Zoo's PPO settings for BipedalWalker, with its VecNormalize as running observation
        # normalisation and return-based reward scaling.
        "expert": PPOConfig(num_envs=32, num_steps=2048, minibatch_size=64, epochs=10, gamma=0.999, lam=0.95,
                            clip=0.18, normalize_obs=True, normalize_reward=True),
        # Most expert episodes hit the 1,600-step limit before the course's end, so terminations
        # are mostly falls: the positive form's survival bonus points the right way, no absorbing
        # states. With the discriminator entropy bonus that steadied Hopper; not tried without it.
        "gail": GAILConfig(disc_entropy_bonus=1e-3, ppo=PPOConfig(num_envs=16, num_steps=256, anneal_lr=True)),
        "gail_steps": 1_000_000,
    },
    "LunarLander-v3": {
        # RL Zoo's PPO settings for LunarLander.
        "expert": PPOConfig(num_envs=16, num_steps=1024, minibatch_size=64, epochs=4, gamma=0.999, lam=0.98,
                            ent_coef=0.01),
        # Episodes end when the lander comes to rest (or crashes): absorbing states, as on Acrobot.
        # Not tuned: the first settings tried.
        "gail": GAILConfig(absorbing=True, ppo=PPOConfig(num_envs=16, num_steps=128, anneal_lr=True)),
        "gail_steps": 500_000,
    },
    "Pendulum-v1": {
        "expert_sac": SACConfig(),
        # Pendulum never terminates, so the reward form's sign bias does not arise. A shorter
        # horizon (gamma 0.95) suits its 200-step swing-up, as in RL Zoo's settings.
        "gail": GAILConfig(
            ppo=PPOConfig(num_envs=8, num_steps=256, gamma=0.95, lr=1e-3, minibatch_size=256, anneal_lr=True),
            trpo=TRPOConfig(num_envs=16, num_steps=256, gamma=0.95, max_kl=0.02),
            reinforce=ReinforceConfig(num_envs=16, num_steps=200, gamma=0.95, lr=1e-3, anneal_lr=True),
        ),
        "gail_steps": 200_000,
        # The generator on f alone: with the -log pi term too, seed 1 wandered between 0.8 and 0.95
        # (0.81 at 200k; 0.91 with reward scaling or disc lr 1e-4 at 300k); on f: 0.987 / 0.969 (seeds 0, 1).
        "airl": AIRLConfig(entropy_reward=False,
                           ppo=PPOConfig(num_envs=8, num_steps=256, gamma=0.95, lr=1e-3, minibatch_size=256, anneal_lr=True)),
        "airl_steps": 200_000,
        "dagger": DAggerConfig(),
        "dagger_steps": 20_000,
        # Balancing near the top hinges on Q* differences well under 1 between torques: per-state
        # advantage scaling and fresh action samples at every minibatch (aggregated states) find it.
        "aggrevated": AggreVaTeDConfig(lr=1e-3, epochs=1, per_state_scale=True, init_log_std=-1.5, action_samples=16),
        "aggrevated_steps": 30_000,
        # The shipped SAC expert's 64x64 networks (a quarter of the MuJoCo ones' cost per update):
        # 4 demos, seed 0, normalized 0.98 at 4,000 env steps (20 episodes).
        "dac": DACConfig(hidden=(64, 64), disc_hidden=(64, 64)),
        "dac_steps": 10_000,
        "sqil": SQILConfig(hidden=(64, 64)),
        "iq_learn": IQLearnConfig(hidden=(64, 64)),
    },
    # Maximum-entropy IRL on the tabular tasks; its budget is its config's iterations.
    "FrozenLake-v1": {
        # The slippery ice makes 50 demos a noisy sample of the expert's visits: a reward of the
        # state entered fits them with optimal actions that disagree with the expert's on 1 of its
        # 11 states for some demo draws (seeds 0-2, 50 demos: 100%, 100%, 91%); a reward of the
        # state and action agrees on all of them (seeds 0-5, 50 demos, from 75 iterations on).
        "maxent_irl": MaxEntIRLConfig(reward_form="state_action"),
    },
    "CliffWalking-v1": {"maxent_irl": MaxEntIRLConfig()},
    "GridWorld-v0": {"maxent_irl": MaxEntIRLConfig()},
}


def defaults_for(env_id: str | None, key: str, fallback: Any) -> Any:
    """The table's entry ``key`` for ``env_id``, or ``fallback`` (always for ``env_id`` None)."""
    if env_id is None:
        return fallback
    return TASK_DEFAULTS.get(env_id, {}).get(key, fallback)


def config_for(algo: str, env_id: str | None, **overrides: Any):
    """The config of the registered algorithm ``algo`` on ``env_id``: the task's entry in the table
    (else the config class's defaults), with ``overrides`` replacing fields.

    Args:
        algo: a registry name (``bc``, ``gail``, ``gail-offline``, ``dagger``, ``aggrevated``, or an
            expert learner ``expert-ppo``, ``expert-dqn``, ``expert-sac``).
        env_id: the task; None (or an env without an entry) gives the config's defaults.
        **overrides: config fields to set.

    Raises:
        UserError: an unknown algorithm, or an override that is not a field of its config.
    """
    spec = get_algorithm(algo)
    config_class = spec.config_class
    unknown = set(overrides) - {f.name for f in fields(config_class)}
    if unknown:
        raise UserError(f"{config_class.__name__} has no field {sorted(unknown)[0]!r}; "
                        f"its fields are {', '.join(f.name for f in fields(config_class))}")
    return replace(defaults_for(env_id, spec.table_key, config_class()), **overrides)


def budget_for(algo: str, env_id: str | None) -> int | None:
    """The task's default budget of the registered algorithm ``algo`` on ``env_id`` (None: the
    fallback, the budget of an env without task defaults), in the algorithm's budget unit.

    A config-field budget (BC's epochs, offline GAIL's iterations) is the task config's; any other
    is the table's ``budget.task_key`` entry, else the registry's fallback (None for the expert
    learners, whose default is the shipped expert's: :func:`zoo_expert_steps`).
    """
    spec = get_algorithm(algo)
    budget = spec.budget
    if budget.in_config:
        return int(getattr(config_for(algo, env_id), budget.param))
    if budget.task_key is None:
        return budget.fallback
    value = defaults_for(env_id, budget.task_key, budget.fallback)
    return None if value is None else int(value)


# The per-algorithm helpers predate config_for; they stay for the code and docs that import them.
def bc_config(env_id: str | None, **overrides) -> BCConfig:
    """``config_for("bc", env_id, **overrides)``."""
    return config_for("bc", env_id, **overrides)


def gail_config(env_id: str | None, **overrides) -> GAILConfig:
    """``config_for("gail", env_id, **overrides)``."""
    return config_for("gail", env_id, **overrides)


def gail_offline_config(env_id: str | None, **overrides) -> OfflineGAILConfig:
    """``config_for("gail-offline", env_id, **overrides)``."""
    return config_for("gail-offline", env_id, **overrides)


def dagger_config(env_id: str | None, **overrides) -> DAggerConfig:
    """``config_for("dagger", env_id, **overrides)``."""
    return config_for("dagger", env_id, **overrides)


def aggrevated_config(env_id: str | None, **overrides) -> AggreVaTeDConfig:
    """``config_for("aggrevated", env_id, **overrides)``."""
    return config_for("aggrevated", env_id, **overrides)


EXPERT_CONFIGS = {"ppo": PPOConfig, "dqn": DQNConfig, "sac": SACConfig}


def expert_config(env_id: str | None, algo: str = "ppo", **overrides):
    """The expert learner's config for ``env_id``: a PPOConfig, DQNConfig or SACConfig
    (``config_for("expert-" + algo, env_id, **overrides)``)."""
    return config_for(expert_learner(algo).name, env_id, **overrides)


def _command_option(tokens: list[str], name: str) -> str | None:
    """The value of option ``name`` (``--name VALUE`` or ``--name=VALUE``) in a split command line,
    or None if it is absent."""
    for i, token in enumerate(tokens):
        if token == name and i + 1 < len(tokens):
            return tokens[i + 1]
        if token.startswith(f"{name}="):
            return token[len(name) + 1:]
    return None


@lru_cache(maxsize=1)
def zoo_expert_budgets() -> tuple[tuple[str, str, int], ...]:
    """``(env_id, algo, steps)`` for each shipped expert whose recorded command gives them.

    Read from the files themselves (``extra.command``, the ``imitlab expert train`` line that made
    each one), so the defaults cannot drift from what was shipped. Cached: the zoo is read-only.
    """
    from imitlab.experts import zoo_files
    from imitlab.policies import load_policy

    budgets = []
    for path in zoo_files():
        try:
            tokens = shlex.split(load_policy(path)[1].get("extra", {}).get("command") or "")
        except ValueError:  # unbalanced quotes: no command to read a budget from
            continue
        env_id, steps = _command_option(tokens, "--env"), _command_option(tokens, "--steps")
        if tokens[:3] == ["imitlab", "expert", "train"] and env_id and steps and steps.isdigit():
            budgets.append((env_id, _command_option(tokens, "--algo") or "ppo", int(steps)))
    return tuple(budgets)


def zoo_expert_steps(env_id: str, algo: str) -> int | None:
    """The ``--steps`` that made the shipped ``algo`` expert of ``env_id``, or None if none was
    shipped (or its command does not say): ``imitlab expert train``'s default budget."""
    return next((steps for env, a, steps in zoo_expert_budgets() if (env, a) == (env_id, algo)), None)
