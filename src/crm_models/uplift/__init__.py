"""Uplift modelling: meta-learners, evaluation metrics (pure functions) and cost-aware targeting.

>>> from crm_models.uplift import SLearner, TLearner, XLearner, ClassTransformation, qini_curve, qini_auc_score
"""

from crm_models.uplift.compare import ArmEvaluation, LearnerComparison, compare_learners, default_learners
from crm_models.uplift.drlearner import DRLearner
from crm_models.uplift.metrics import (
    NullBand,
    bootstrap_metric,
    perfect_qini_curve,
    perfect_uplift_curve,
    permutation_null,
    qini_auc_score,
    qini_curve,
    scores_by_arm,
    uplift_at_k,
    uplift_auc_score,
    uplift_by_decile,
    uplift_curve,
)
from crm_models.uplift.slearner import SLearner
from crm_models.uplift.targeting import TargetingPolicy, best_arm, compare_policies, profit_curve
from crm_models.uplift.tlearner import TLearner
from crm_models.uplift.transformation import ClassTransformation, TransformedOutcome
from crm_models.uplift.xlearner import XLearner

__all__ = [
    "ArmEvaluation",
    "ClassTransformation",
    "DRLearner",
    "LearnerComparison",
    "NullBand",
    "SLearner",
    "TLearner",
    "TargetingPolicy",
    "TransformedOutcome",
    "XLearner",
    "best_arm",
    "bootstrap_metric",
    "compare_learners",
    "compare_policies",
    "default_learners",
    "perfect_qini_curve",
    "perfect_uplift_curve",
    "permutation_null",
    "profit_curve",
    "qini_auc_score",
    "qini_curve",
    "scores_by_arm",
    "uplift_at_k",
    "uplift_auc_score",
    "uplift_by_decile",
    "uplift_curve",
]
