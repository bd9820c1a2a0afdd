"""SAC speed: updates per second of the learner alone, and env steps per second of the expert loop
(acting, stepping, storing and one update per env step), on one CPU thread.

    python benchmarks/sac_update.py [--env Pendulum-v1] [--hidden 256 256] [--batch 256]
                                    [--updates 200] [--env-steps 1500] [--repeats 5]

Bar (issue 11): the SAC learner object is no slower than the inline loop it replaced (about
14 ms per update with batch 256 and 256x256 networks). The update count uses a replay buffer of
random transitions; the loop count trains on the env's reward with learning from the 100th step.

Issue 14: it also prints the arithmetic floor of one update, the matrix products alone: each layer's
product is timed on its own (torch.mm of the update's shapes) and counted as often as one update
runs it forward or backward (target actor and critics forward; both critics forward and backward;
on average one actor step a update: actor and critics forward, the critics' input gradient, the
actor's backward). Everything above it is per-op overhead (activations, optimizer, autograd).
Measured on Hopper-v5 (batch 256, 256x256, one thread, a second process busy on the other core):
11.57 ms per update before (separate Adam kernels per tensor, a Python loop of lerp_ for the
target), 9.7-10.7 ms after (fused Adam, one foreach lerp), against a floor of about 5.1 ms (0.56 GFLOP at 110 GFLOP/s).
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np
import torch

from imitlab.rl.replay import ReplayBuffer
from imitlab.rl.sac import SAC, SACConfig, train_sac


def filled_buffer(env_id: str, size: int, seed: int = 0) -> ReplayBuffer:
    """A replay buffer of ``size`` random transitions in ``env_id``'s spaces."""
    env = gym.make(env_id)
    obs_space, act_space = env.observation_space, env.action_space
    env.close()
    rng = np.random.default_rng(seed)
    buffer = ReplayBuffer(size, obs_space.shape, act_space.shape, np.float32, seed=seed)
    low = np.maximum(obs_space.low, -10.0)
    high = np.minimum(obs_space.high, 10.0)
    obs = rng.uniform(low, high, (2, size, *obs_space.shape)).astype(np.float32)
    acts = rng.uniform(act_space.low, act_space.high, (size, *act_space.shape)).astype(np.float32)
    buffer.add(obs[0], acts, obs[1], (rng.random(size) < 0.01).astype(np.float32), rews=rng.normal(size=size))
    return buffer


def updates_per_second(env_id: str, cfg: SACConfig, updates: int, repeats: int) -> list[float]:
    """``repeats`` timings of ``updates`` SAC updates, as updates per second."""
    buffer = filled_buffer(env_id, 10_000)
    torch.manual_seed(0)
    learner = SAC.for_spaces(*_spaces(env_id), cfg, seed=0)
    for _ in range(20):  # warm-up (allocator, Adam state)
        learner.update(buffer.sample(cfg.batch_size))
    rates = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(updates):
            learner.update(buffer.sample(cfg.batch_size))
        rates.append(updates / (time.perf_counter() - t))
    return rates


def matmul_floor(obs_dim: int, act_dim: int, hidden: tuple[int, ...], batch: int, repeats: int = 200) -> tuple[float, float]:
    """The seconds of matrix products in one SAC update, and their GFLOP count (see the module's docstring)."""
    actor = list(zip([obs_dim, *hidden], [*hidden, 2 * act_dim]))
    critic = list(zip([obs_dim + act_dim, *hidden], [*hidden, 1]))
    # products per layer: forward 1; backward 2 (input and weight gradients), 1 where one is not needed
    counts: dict[tuple[int, int], float] = {}

    def add(layers, forward, backward_weights, backward_inputs):
        for i, shape in enumerate(layers):
            n = forward + backward_weights + (backward_inputs if i > 0 else 0)
            counts[shape] = counts.get(shape, 0) + n

    add(actor, 1, 0, 0)  # target: a' ~ pi(s')
    add(critic, 2, 0, 0)  # target critics at (s', a')
    add(critic, 2, 2, 2)  # both critics forward and backward
    add(actor, 1, 1, 1)  # actor step: actor forward and backward
    add(critic, 2, 0, 2)  # ... through the critics, whose weights are frozen (input gradient only)
    seconds = flops = 0.0
    for (n_in, n_out), n in counts.items():
        x, w = torch.randn(batch, n_in), torch.randn(n_in, n_out)
        for _ in range(10):
            torch.mm(x, w)
        t = time.perf_counter()
        for _ in range(repeats):
            torch.mm(x, w)
        seconds += n * (time.perf_counter() - t) / repeats
        flops += n * 2 * batch * n_in * n_out
    return seconds, flops / 1e9


def env_steps_per_second(env_id: str, cfg: SACConfig, steps: int, repeats: int) -> list[float]:
    """``repeats`` runs of the expert loop for ``steps`` env steps, as env steps per (training) second."""
    return [steps / train_sac(env_id=env_id, total_steps=steps, seed=i, config=cfg, eval_every=0,
                              eval_episodes=1).train_seconds for i in range(repeats)]


def _spaces(env_id: str) -> tuple[gym.Space, gym.Space]:
    env = gym.make(env_id)
    spaces = env.observation_space, env.action_space
    env.close()
    return spaces


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", default="Pendulum-v1")
    p.add_argument("--hidden", type=int, nargs="+", default=[256, 256])
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--updates", type=int, default=200, help="updates per timing")
    p.add_argument("--env-steps", type=int, default=1500, help="env steps per loop run (0: skip the loop)")
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    torch.set_num_threads(1)
    hidden = tuple(args.hidden)
    cfg = SACConfig(batch_size=args.batch, hidden=hidden, critic_hidden=hidden, learning_starts=100)
    rates = sorted(updates_per_second(args.env, cfg, args.updates, args.repeats))
    print(f"SAC update, {args.env}, batch {args.batch}, {'x'.join(map(str, hidden))}: "
          f"{rates[-1]:.1f} updates/s best of {args.repeats} ({1000 / rates[-1]:.2f} ms), median {rates[len(rates) // 2]:.1f}")
    obs_space, act_space = _spaces(args.env)
    floor, gflop = matmul_floor(int(np.prod(obs_space.shape)), int(np.prod(act_space.shape)), hidden, args.batch)
    print(f"arithmetic floor: {gflop:.2f} GFLOP of matrix products per update, {1000 * floor:.2f} ms at this CPU's "
          f"torch.mm speed ({gflop / floor:.0f} GFLOP/s)")
    if args.env_steps:
        rates = sorted(env_steps_per_second(args.env, cfg, args.env_steps, args.repeats))
        print(f"SAC expert loop, {args.env}: {rates[-1]:.1f} env steps/s best of {args.repeats}, "
              f"median {rates[len(rates) // 2]:.1f}")


if __name__ == "__main__":
    main()
