"""The off-policy imitation family on one core (:mod:`.common`): SQIL (:mod:`.sqil`) and
IQ-Learn (:mod:`.iq_learn`); DAC, the off-policy adversarial one, lives with its family in
:mod:`imitlab.algorithms.adversarial`."""
