"""Settings of one 1D GAN critic comparison (sheet §1.3): data, critics, networks, optimiser, snapshots.

Defaults follow the papers' toy settings (WGAN-GP's Adam β = (0.5, 0.9), n_critic = 5 for the Wasserstein
critics) and were tuned so that, from the "disjoint start", every preset tells Figure 1 vs Figure 2's story.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.densities import PRESETS
from core.device import DEVICES
from core.validate import check_choice, check_int, check_positive, check_range

CRITICS = (
    "perfect",
    "standard",
    "weight_clip",
    "gradient_penalty",
    "spectral_norm",
    "lsgan",
    "instance_noise",
)
DEFAULT_CRITICS = ("perfect", "standard", "weight_clip", "gradient_penalty", "spectral_norm")

CRITIC_LABELS = {
    "perfect": "Perfect D* = p/(p+p_G)",
    "standard": "Standard discriminator",
    "weight_clip": "WGAN, weight clipping",
    "gradient_penalty": "WGAN-GP, gradient penalty",
    "spectral_norm": "Spectral normalisation",
    "lsgan": "LSGAN (least squares)",
    "instance_noise": "Instance noise",
}

# Short names for the critic picker's chips (five full labels do not fit on one line of a projected page).
CRITIC_SHORT_LABELS = {
    "perfect": "perfect D*",
    "standard": "standard",
    "weight_clip": "weight clipping",
    "gradient_penalty": "gradient penalty",
    "spectral_norm": "spectral norm",
    "lsgan": "LSGAN",
    "instance_noise": "instance noise",
}

STARTS = ("disjoint", "overlapping")
NOISES = ("gaussian", "uniform")
BCE_LOSSES = ("minimax", "non_saturating")


@dataclass(frozen=True)
class Gan1DConfig:
    """One comparison: every critic in `critics` trains its own generator from the same seed and start."""

    data: str = "two_modes"
    critics: tuple[str, ...] = DEFAULT_CRITICS
    start: str = "disjoint"  # generator far to the right of the data (Figure 1) or on top of it
    noise: str = "uniform"  # z ~ U(−1, 1) (bounded support: a disjoint start is truly disjoint) or N(0, 1)
    steps: int = 2000  # generator steps
    batch: int = 256
    hidden: int = 64  # two hidden layers of this width, generator and critic
    n_critic: int = 5  # critic steps per generator step for weight_clip and gradient_penalty
    lr_g: float = 5e-5
    lr_d: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.9
    lr_decay: bool = True  # learning rates fall linearly to 0: the late oscillations of the game die out
    clip: float = 0.05  # weight clipping box [−c, c]
    gp_lambda: float = 0.1  # λ of the gradient penalty λ(‖∇f‖ − 1)² (0.1 as in the WGAN-GP toy code)
    sn_iters: int = 1  # power iterations per step (warm-started, as in SN-GAN)
    noise_sigma: float = 1.0  # instance noise σ at step 0, annealed linearly to 0
    perfect_loss: str = "minimax"  # the sheet's saturating loss log(1 − D*(G(z)))
    standard_loss: str = "non_saturating"
    snapshots: int = 100
    grid_points: int = 512
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        check_choice("data", self.data, PRESETS)
        critics = tuple(self.critics) if not isinstance(self.critics, str) else tuple(self.critics.split(","))
        if not critics:
            raise ValueError("critics: choose at least one critic")
        for name in critics:
            check_choice("critics", name, CRITICS)
        if len(set(critics)) != len(critics):
            raise ValueError(f"critics: each critic at most once, got {', '.join(critics)}")
        object.__setattr__(self, "critics", critics)
        check_choice("start", self.start, STARTS)
        check_choice("noise", self.noise, NOISES)
        object.__setattr__(self, "steps", check_int("steps", self.steps, minimum=1, maximum=100_000))
        object.__setattr__(self, "batch", check_int("batch", self.batch, minimum=2, maximum=65_536))
        object.__setattr__(self, "hidden", check_int("hidden", self.hidden, minimum=2, maximum=1024))
        object.__setattr__(self, "n_critic", check_int("n_critic", self.n_critic, minimum=1, maximum=100))
        object.__setattr__(self, "lr_g", check_positive("lr_g", self.lr_g))
        object.__setattr__(self, "lr_d", check_positive("lr_d", self.lr_d))
        object.__setattr__(self, "beta1", check_range("beta1", self.beta1, 0.0, 0.999))
        object.__setattr__(self, "beta2", check_range("beta2", self.beta2, 0.0, 0.9999))
        object.__setattr__(self, "clip", check_positive("clip", self.clip))
        object.__setattr__(self, "gp_lambda", check_positive("gp_lambda", self.gp_lambda, allow_zero=True))
        object.__setattr__(self, "sn_iters", check_int("sn_iters", self.sn_iters, minimum=1, maximum=50))
        object.__setattr__(
            self, "noise_sigma", check_positive("noise_sigma", self.noise_sigma, allow_zero=True)
        )
        check_choice("perfect_loss", self.perfect_loss, BCE_LOSSES)
        check_choice("standard_loss", self.standard_loss, BCE_LOSSES)
        snaps = check_int("snapshots", self.snapshots, minimum=2, maximum=200)
        object.__setattr__(self, "snapshots", min(snaps, self.steps + 1))
        object.__setattr__(
            self, "grid_points", check_int("grid_points", self.grid_points, minimum=64, maximum=4096)
        )
        object.__setattr__(self, "seed", check_int("seed", self.seed, minimum=0, maximum=2**63 - 1))
        check_choice("device", self.device, DEVICES)

    def n_critic_of(self, critic: str) -> int:
        """Critic steps per generator step: n_critic for the Wasserstein critics, 1 for the others."""
        return self.n_critic if critic in ("weight_clip", "gradient_penalty") else 1
