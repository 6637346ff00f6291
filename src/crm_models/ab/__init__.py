"""Experiment read-outs: sample-ratio check, effects with intervals, CUPED, power, sequential and Bayesian tests;
outcomes from transactions, repurchase curves by arm, ratio metrics and effects by segment.

>>> from crm_models.ab import analyze_experiment, srm_test, sample_size
"""

from crm_models.ab.analyze import ExperimentReadout, analyze_experiment
from crm_models.ab.bayes import bayesian_proportions
from crm_models.ab.effects import Effect, cuped_adjust, mean_effect, proportion_effect, relative_effect
from crm_models.ab.multiplicity import benjamini_hochberg, holm
from crm_models.ab.outcomes import ExperimentOutcomes, experiment_outcomes
from crm_models.ab.power import minimum_detectable_effect, sample_size
from crm_models.ab.ratio import analyze_ratios, ratio_effect
from crm_models.ab.repurchase import RepurchaseCurves, logrank_test, repurchase_curves
from crm_models.ab.segments import SegmentEffects, heterogeneity_test, segment_effects
from crm_models.ab.sequential import SequentialResult, msprt
from crm_models.ab.srm import SRMResult, srm_test

__all__ = [
    "Effect",
    "ExperimentOutcomes",
    "ExperimentReadout",
    "RepurchaseCurves",
    "SRMResult",
    "SegmentEffects",
    "SequentialResult",
    "analyze_experiment",
    "analyze_ratios",
    "bayesian_proportions",
    "benjamini_hochberg",
    "cuped_adjust",
    "experiment_outcomes",
    "heterogeneity_test",
    "holm",
    "logrank_test",
    "mean_effect",
    "minimum_detectable_effect",
    "msprt",
    "proportion_effect",
    "ratio_effect",
    "relative_effect",
    "repurchase_curves",
    "sample_size",
    "segment_effects",
    "srm_test",
]
