"""Experiment read-outs: sample-ratio check, effects with intervals, CUPED, power, sequential and Bayesian tests.

>>> from crm_models.ab import analyze_experiment, srm_test, sample_size
"""

from crm_models.ab.analyze import ExperimentReadout, analyze_experiment
from crm_models.ab.bayes import bayesian_proportions
from crm_models.ab.effects import Effect, cuped_adjust, mean_effect, proportion_effect, relative_effect
from crm_models.ab.multiplicity import benjamini_hochberg, holm
from crm_models.ab.power import minimum_detectable_effect, sample_size
from crm_models.ab.sequential import SequentialResult, msprt
from crm_models.ab.srm import SRMResult, srm_test

__all__ = [
    "Effect",
    "ExperimentReadout",
    "SRMResult",
    "SequentialResult",
    "analyze_experiment",
    "bayesian_proportions",
    "benjamini_hochberg",
    "cuped_adjust",
    "holm",
    "mean_effect",
    "minimum_detectable_effect",
    "msprt",
    "proportion_effect",
    "relative_effect",
    "sample_size",
    "srm_test",
]
