"""Customer lifetime value: purchase, spend and retention models fitted by exact maximum likelihood.

* :class:`BetaGeoModel` (BG/NBD) and :class:`ModifiedBetaGeoModel` (MBG/NBD), :class:`ParetoNBDModel`:
  how many repeat purchases, and who is still active (non-contractual settings);
* :class:`GammaGammaModel`: how much per purchase;
* :class:`ShiftedBetaGeoModel` (sBG): retention in contractual (subscription) settings;
* :func:`customer_lifetime_value` (money, with explicit horizon, discount rate, margin and time unit)
  and :func:`ltv_cac` (value against acquisition cost by cohort or channel);
* validation on a holdout period: :func:`holdout_comparison`, :func:`tracking_comparison`,
  :func:`ranking_metrics`, :func:`clv_interval`.
"""

from crm_models.clv.beta_geo import BetaGeoModel, MBGModel, ModifiedBetaGeoModel
from crm_models.clv.gamma_gamma import GammaGammaModel, spend_frequency_correlation
from crm_models.clv.pareto_nbd import ParetoNBDModel
from crm_models.clv.shifted_beta_geo import ShiftedBetaGeoModel, survivors_to_tenure
from crm_models.clv.validation import clv_interval, holdout_comparison, ranking_metrics, tracking_comparison
from crm_models.clv.value import DAYS_PER_YEAR, customer_lifetime_value, discount_factors, ltv_cac

__all__ = [
    "DAYS_PER_YEAR",
    "BetaGeoModel",
    "GammaGammaModel",
    "MBGModel",
    "ModifiedBetaGeoModel",
    "ParetoNBDModel",
    "ShiftedBetaGeoModel",
    "clv_interval",
    "customer_lifetime_value",
    "discount_factors",
    "holdout_comparison",
    "ltv_cac",
    "ranking_metrics",
    "spend_frequency_correlation",
    "survivors_to_tenure",
    "tracking_comparison",
]
