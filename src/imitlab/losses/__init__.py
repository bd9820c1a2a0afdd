"""Pure loss and estimator functions by topic, each with the paper it comes from (rlax's habit):
returns, policy_gradient, bc, adversarial (with AIRL's logit), value, soft_q, interactive. Everything is re-exported
here, so ``from imitlab.losses import gae`` holds."""

from imitlab.losses.adversarial import (
    REWARD_FORMS,
    absorbing_tail,
    airl_logit,
    bernoulli_entropy,
    discriminator_loss,
    gail_reward,
    gradient_penalty,
)
from imitlab.losses.bc import bc_discrete_loss, bc_mse_loss, bc_nll_loss
from imitlab.losses.interactive import (
    aggrevated_continuous_loss,
    aggrevated_discrete_loss,
)
from imitlab.losses.policy_gradient import categorical_kl, gaussian_kl, ppo_clip_loss
from imitlab.losses.returns import discounted_returns, gae, normalize_advantages
from imitlab.losses.soft_q import (
    iq_learn_loss,
    sac_actor_loss,
    sac_alpha_loss,
    sac_q_target,
    soft_td_target,
    soft_value,
)
from imitlab.losses.value import double_q_target, huber_td_loss

__all__ = [
    "REWARD_FORMS", "absorbing_tail", "airl_logit", "aggrevated_continuous_loss", "aggrevated_discrete_loss", "bc_discrete_loss",
    "bc_mse_loss", "bc_nll_loss", "bernoulli_entropy", "categorical_kl", "discounted_returns", "discriminator_loss",
    "double_q_target", "gae", "gail_reward", "gaussian_kl", "gradient_penalty", "huber_td_loss", "iq_learn_loss", "normalize_advantages",
    "ppo_clip_loss", "sac_actor_loss", "sac_alpha_loss", "sac_q_target", "soft_td_target", "soft_value",
]
