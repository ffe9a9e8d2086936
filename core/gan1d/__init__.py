"""1D GAN critic lab (sheet §1.3, Figures 1–2): train generators against several critics side by side.

from core.gan1d import Gan1DConfig, train_critics
result = train_critics(Gan1DConfig(data="two_modes", critics=("perfect", "gradient_penalty")))
"""

from core.gan1d.config import CRITIC_LABELS, CRITIC_SHORT_LABELS, CRITICS, DEFAULT_CRITICS, Gan1DConfig
from core.gan1d.trainer import Gan1DResult, train_critics

__all__ = [
    "CRITICS",
    "CRITIC_LABELS",
    "CRITIC_SHORT_LABELS",
    "DEFAULT_CRITICS",
    "Gan1DConfig",
    "Gan1DResult",
    "train_critics",
]
