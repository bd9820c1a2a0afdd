"""Pure loss and estimator functions, each with the paper it comes from.

Every function takes tensors or arrays and returns a value; none holds state or touches a network
beyond what it is handed, so each can be tested on known numbers.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def gae(
    rews: np.ndarray,
    values: np.ndarray,
    next_values: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    *,
    gamma: float,
    lam: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Generalized advantage estimation (Schulman et al. 2016, arXiv:1506.02438), [T, N] arrays.

    ``next_values[t]`` is V of the state transition t led to (the true final state at an episode's
    end). A terminated transition bootstraps from 0; a truncated one from ``next_values`` (the time
    limit is not part of the task, Pardo et al. 2018). Either way the advantage does not flow back
    across the episode boundary, so the first step of the next episode never leaks into this one.

    Returns:
        ``(advantages, returns)`` where ``returns = advantages + values`` (the value targets).
    """
    T = rews.shape[0]
    adv = np.zeros_like(rews, dtype=np.float32)
    not_term = 1.0 - terminated.astype(np.float32)
    cont = 1.0 - (terminated | truncated).astype(np.float32)
    deltas = rews + gamma * next_values * not_term - values
    last = np.zeros_like(rews[0], dtype=np.float32)
    for t in range(T - 1, -1, -1):
        last = deltas[t] + gamma * lam * cont[t] * last
        adv[t] = last
    return adv, adv + values


def discounted_returns(
    rews: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    next_values: np.ndarray,
    *,
    gamma: float,
) -> np.ndarray:
    """Discounted reward-to-go within each episode, [T, N] arrays (Williams 1992, REINFORCE).

    ``G_t = r_t + gamma * G_{t+1}``, restarted at every episode end so no return ever crosses into
    the next episode: 0 after a termination, ``next_values`` after a time-limit truncation and after
    the last step of the batch (pass zeros for plain Monte-Carlo returns cut at those points).
    """
    T = rews.shape[0]
    out = np.zeros_like(rews, dtype=np.float32)
    cut = truncated.copy()
    cut[-1] = True  # the batch ends mid-episode: bootstrap (or cut) there
    following = np.zeros_like(rews[0], dtype=np.float32)
    for t in range(T - 1, -1, -1):
        tail = np.where(cut[t], next_values[t], following)
        following = rews[t] + gamma * np.where(terminated[t], 0.0, tail)
        out[t] = following
    return out


def ppo_clip_loss(logp: torch.Tensor, old_logp: torch.Tensor, adv: torch.Tensor, clip: float) -> torch.Tensor:
    """PPO's clipped surrogate objective, negated for minimisation (Schulman et al. 2017, arXiv:1707.06347)."""
    ratio = torch.exp(logp - old_logp)
    return -torch.min(ratio * adv, ratio.clamp(1.0 - clip, 1.0 + clip) * adv).mean()


def categorical_kl(old_logits: torch.Tensor, new_logits: torch.Tensor) -> torch.Tensor:
    """KL(old || new) per row between categorical distributions given by logits."""
    old_logp = torch.log_softmax(old_logits, -1)
    return (old_logp.exp() * (old_logp - torch.log_softmax(new_logits, -1))).sum(-1)


def gaussian_kl(
    old_mean: torch.Tensor, old_log_std: torch.Tensor, new_mean: torch.Tensor, new_log_std: torch.Tensor
) -> torch.Tensor:
    """KL(old || new) per row between diagonal Gaussians, summed over dimensions. (The KL between
    two tanh-squashed Gaussians equals that of their pre-squash Gaussians: tanh is a bijection.)"""
    var_ratio = torch.exp(2 * (old_log_std - new_log_std))
    return (0.5 * (var_ratio + (old_mean - new_mean).square() * torch.exp(-2 * new_log_std) - 1) + new_log_std - old_log_std).sum(-1)


def conjugate_gradient(fvp, b: torch.Tensor, iters: int = 10, tol: float = 1e-10) -> torch.Tensor:
    """Solve ``F x = b`` for symmetric positive-definite F given only products ``fvp(v) = F v``
    (TRPO's natural-gradient step, Schulman et al. 2015, arXiv:1502.05477, appendix C)."""
    x = torch.zeros_like(b)
    r = b.clone()
    p = b.clone()
    rr = r.dot(r)
    for _ in range(iters):
        Fp = fvp(p)
        alpha = rr / (p.dot(Fp) + 1e-12)
        x += alpha * p
        r -= alpha * Fp
        rr_new = r.dot(r)
        if rr_new < tol:
            break
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x


def bc_discrete_loss(logits: torch.Tensor, acts: torch.Tensor) -> torch.Tensor:
    """Behavioral cloning for discrete actions: cross-entropy to the expert's action (Pomerleau 1991)."""
    return F.cross_entropy(logits, acts.long())


def bc_nll_loss(log_probs: torch.Tensor) -> torch.Tensor:
    """Behavioral cloning for continuous actions: negative log-likelihood of the expert's actions
    under the policy (maximum likelihood); ``log_probs`` are the policy's log pi(a_expert | s)."""
    return -log_probs.mean()


def bc_mse_loss(mean: torch.Tensor, acts: torch.Tensor) -> torch.Tensor:
    """Behavioral cloning for continuous actions: squared error of the policy's deterministic
    action, both in the unit action space."""
    return (acts - mean).square().sum(-1).mean()


def discriminator_loss(expert_logits: torch.Tensor, policy_logits: torch.Tensor) -> torch.Tensor:
    """GAIL's discriminator loss (Ho & Ermon 2016, arXiv:1606.03476): binary cross-entropy with
    D = sigmoid(logit) = probability that (s, a) is the expert's; expert pairs labelled 1,
    policy pairs 0, each half weighted equally whatever the batch sizes."""
    return F.binary_cross_entropy_with_logits(
        expert_logits, torch.ones_like(expert_logits)
    ) + F.binary_cross_entropy_with_logits(policy_logits, torch.zeros_like(policy_logits))


def bernoulli_entropy(logits: torch.Tensor) -> torch.Tensor:
    """Mean entropy of Bernoulli(sigmoid(logits)); a discriminator entropy bonus keeps it from
    growing over-confident (as in the `imitation` library's GAIL)."""
    p = torch.sigmoid(logits)
    return (F.softplus(logits) - p * logits).mean()


def gradient_penalty(critic, expert_x: torch.Tensor, policy_x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """``E[(||grad_x critic(x)|| - 1)^2]`` at random interpolates of expert and policy inputs
    (Gulrajani et al. 2017, arXiv:1704.00028; used for GAIL's discriminator by Kostrikov et al.
    2019, DAC). ``critic`` maps encoded inputs [B, d] to logits [B]."""
    n = min(len(expert_x), len(policy_x))
    eps = torch.rand(n, 1, generator=generator)
    x = (eps * expert_x[:n] + (1 - eps) * policy_x[:n]).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return (grad.norm(dim=-1) - 1).square().mean()


REWARD_FORMS = ("positive", "negative", "logit")


def gail_reward(logits: torch.Tensor, form: str) -> torch.Tensor:
    """The imitation reward from discriminator logits, D = sigmoid(logits), computed stably.

    - ``positive``: ``-log(1 - D) = softplus(logit) > 0``. A survival bonus: every step earns
      reward, so agents learn to prolong episodes (right for CartPole-like tasks, wrong where
      reaching a goal ends the episode).
    - ``negative``: ``log D = -softplus(-logit) < 0``. A per-step cost: agents learn to end
      episodes early.
    - ``logit``: ``log D - log(1 - D) = logit``, the AIRL form (Fu et al. 2018), no sign bias.
    """
    if form == "positive":
        return F.softplus(logits)
    if form == "negative":
        return -F.softplus(-logits)
    if form == "logit":
        return logits
    raise ValueError(f"unknown reward form {form!r}; choose one of {REWARD_FORMS}")


def absorbing_tail(r_absorbing: float, gamma: float) -> float:
    """The discounted return of sitting in the absorbing state forever after a true termination
    (Kostrikov et al. 2019, DAC), seen from the terminal transition:
    ``sum_{k>=1} gamma**k * r_absorbing = gamma / (1 - gamma) * r_absorbing``. It starts one step
    after the terminal transition, whose own reward is counted as usual, hence ``gamma`` on top."""
    return gamma / (1.0 - gamma) * r_absorbing


def huber_td_loss(q: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """DQN's temporal-difference loss with the Huber (smooth L1) penalty, which clips the gradient
    of large errors to +-1 (Mnih et al. 2015, "Human-level control through deep RL")."""
    return F.smooth_l1_loss(q, target)


def double_q_target(
    rews: torch.Tensor, terminated: torch.Tensor, next_q_online: torch.Tensor, next_q_target: torch.Tensor, gamma: float
) -> torch.Tensor:
    """Double DQN target (van Hasselt et al. 2016, arXiv:1509.06461): the online network picks the
    next action, the target network values it, ``r + gamma * (1 - terminated) * Q_target(s', argmax_a Q_online(s', a))``.

    ``next_q_*`` are [B, n_actions]. Only a true termination cuts the bootstrap, not a time limit.
    """
    best = next_q_online.argmax(-1, keepdim=True)
    return rews + gamma * (1.0 - terminated) * next_q_target.gather(-1, best).squeeze(-1)


def sac_q_target(
    rews: torch.Tensor, terminated: torch.Tensor, next_q: torch.Tensor, next_logp: torch.Tensor, alpha: torch.Tensor, gamma: float
) -> torch.Tensor:
    """Soft Bellman target of SAC (Haarnoja et al. 2018, arXiv:1812.05905):
    ``r + gamma * (1 - terminated) * (min_i Q_target_i(s', a') - alpha * log pi(a'|s'))``, a' ~ pi(.|s')."""
    return rews + gamma * (1.0 - terminated) * (next_q - alpha * next_logp)


def sac_actor_loss(q: torch.Tensor, logp: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """SAC's policy loss ``E[alpha * log pi(a|s) - Q(s, a)]`` with a reparameterised a ~ pi(.|s)
    (Haarnoja et al. 2018, eq. 7 of arXiv:1812.05905)."""
    return (alpha * logp - q).mean()


def sac_alpha_loss(log_alpha: torch.Tensor, logp: torch.Tensor, target_entropy: float) -> torch.Tensor:
    """Automatic entropy tuning (Haarnoja et al. 2018, eq. 18 of arXiv:1812.05905): raises alpha
    when the policy's entropy ``-log pi`` falls below ``target_entropy``, lowers it above.
    Written in log alpha, the usual parameterisation, so alpha stays positive."""
    return -(log_alpha * (logp.detach() + target_entropy)).mean()


def aggrevated_discrete_loss(logits: torch.Tensor, q_values: torch.Tensor) -> torch.Tensor:
    """AggreVaTeD's loss for discrete actions, exact over the action set: the expected cost-to-go
    ``E_{a~pi(.|s)}[-Q*(s, a)] = -sum_a pi(a|s) Q*(s, a)``, averaged over the visited states.

    AggreVaTe (Ross & Bagnell 2014, arXiv:1406.5979) reduces imitation to cost-sensitive learning
    on the expert's cost-to-go; AggreVaTeD (Sun et al. 2017, arXiv:1703.01030) makes it a
    differentiable policy loss, computed here exactly by summing over actions instead of sampling.
    ``q_values`` ([B, n_actions], no gradient) may be shifted by any per-state constant (an
    advantage) and scaled without moving the minimiser: ``sum_a pi(a|s) = 1``.
    """
    return -(torch.softmax(logits, -1) * q_values).sum(-1).mean()


def aggrevated_continuous_loss(log_probs: torch.Tensor, advantages: torch.Tensor) -> torch.Tensor:
    """AggreVaTeD's likelihood-ratio loss for continuous actions (Sun et al. 2017, arXiv:1703.01030,
    eq. 7): ``-log pi(a|s) * A*(s, a)`` averaged over actions a sampled from the policy at visited
    states, with A*(s, a) = Q*(s, a) - V*(s) the expert's advantage (normalised by the caller).
    Its gradient is the REINFORCE estimate of the gradient of ``E_{a~pi}[-Q*(s, a)]``."""
    return -(log_probs * advantages).mean()


def normalize_advantages(adv: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Scale advantages to unit standard deviation over the batch (their per-state mean is already
    removed by the baseline), so one learning rate fits any reward scale."""
    return adv / (adv.std() + eps)
