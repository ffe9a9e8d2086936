"""What is trained on MNIST: the GAN's generator G_θ and critic D_ϕ (MLP or small DCGAN) and a small classifier.

Images live in [-1, 1] inside the GAN (tanh output), in [0, 1] everywhere else. The critic returns one raw
score per image (a logit for the sigmoid losses, a real value for WGAN / hinge / LSGAN); the loss decides how
to read it. The classifier is the "judge" of the quality metrics (core/mnist/metrics.py) and engineer F's
attack target; its penultimate layer is the feature space of MNIST-FD.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from core.validate import check_choice, check_int, check_range

ARCHS = ("mlp", "dcgan")
IMAGE_SHAPE = (1, 28, 28)
N_PIXELS = 28 * 28
N_CLASSES = 10  # the digits 0–9


def _with_label(z: torch.Tensor, y: torch.Tensor | None, embedding: nn.Embedding | None) -> torch.Tensor:
    """A conditional generator's input: the noise z beside a learned vector for the digit y asked for."""
    if embedding is None:
        return z
    if y is None:
        raise ValueError("y: a class-conditional generator needs the digit labels to draw")
    return torch.cat([z, embedding(y)], 1)


def _projection(
    score: torch.Tensor, features: torch.Tensor, y: torch.Tensor | None, embedding: nn.Embedding | None
) -> torch.Tensor:
    """Projection critic (Miyato & Koyama 2018): f(x, y) = w·φ(x) + b + e_y·φ(x); unconditional: w·φ(x) + b."""
    if embedding is None:
        return score.squeeze(1)
    if y is None:
        raise ValueError("y: a class-conditional critic needs the digit labels of the images it scores")
    return score.squeeze(1) + (embedding(y) * features).sum(1)


class Dropout(nn.Dropout):
    """nn.Dropout with its mask drawn by torch.rand: the same layer, but bernoulli_ is ~3× slower on the CPU
    and the critic calls it on every forward pass."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        keep = (torch.rand_like(x) >= self.p).to(x.dtype).mul_(1.0 / (1.0 - self.p))
        return x * keep


class MlpGenerator(nn.Module):
    """G_θ(z): z ∈ R^z_dim -> 28×28 image in [-1, 1] through two batch-normalised hidden layers.

    With n_classes > 0 it is class-conditional, G_θ(z, y): a learned z_dim vector for the digit y is appended
    to z, so one network draws whichever digit it is asked for.
    """

    def __init__(self, z_dim: int = 64, hidden: int = 256, n_classes: int = 0) -> None:
        super().__init__()
        self.z_dim = z_dim
        self.label_embedding = nn.Embedding(n_classes, z_dim) if n_classes else None
        self.net = nn.Sequential(
            nn.Linear(2 * z_dim if n_classes else z_dim, hidden),
            nn.BatchNorm1d(hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, 2 * hidden),
            nn.BatchNorm1d(2 * hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(2 * hidden, N_PIXELS),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(_with_label(z, y, self.label_embedding)).view(-1, *IMAGE_SHAPE)


class MlpCritic(nn.Module):
    """D_ϕ(x): image -> one raw score. No batch norm, so the gradient penalty stays per-sample.

    Dropout keeps the critic from memorising a small training set (the 4,000-digit subset): a critic that
    knows every real digit by heart gives the generator no useful gradient. With n_classes > 0 it scores
    (image, digit) pairs by projection: D_ϕ(x, y) = w·φ(x) + e_y·φ(x) on its penultimate features φ(x).
    """

    def __init__(self, hidden: int = 256, dropout: float = 0.0, n_classes: int = 0) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(N_PIXELS, 2 * hidden),
            nn.LeakyReLU(0.2),
            Dropout(dropout),
            nn.Linear(2 * hidden, hidden),
            nn.LeakyReLU(0.2),
            Dropout(dropout),
        )
        self.head = nn.Linear(hidden, 1)
        self.label_embedding = nn.Embedding(n_classes, hidden) if n_classes else None

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        features = self.net(x)
        return _projection(self.head(features), features, y, self.label_embedding)


class DcganGenerator(nn.Module):
    """Small DCGAN generator: z -> 7×7 feature map -> two stride-2 transposed convolutions -> 28×28."""

    def __init__(self, z_dim: int = 64, width: int = 64, n_classes: int = 0) -> None:
        super().__init__()
        self.z_dim = z_dim
        self.width = width
        self.label_embedding = nn.Embedding(n_classes, z_dim) if n_classes else None
        self.project = nn.Sequential(
            nn.Linear(2 * z_dim if n_classes else z_dim, 2 * width * 7 * 7),
            nn.BatchNorm1d(2 * width * 7 * 7),
            nn.ReLU(),
        )
        self.up = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.project(_with_label(z, y, self.label_embedding))
        return self.up(h.view(-1, 2 * self.width, 7, 7))


class DcganCritic(nn.Module):
    """Small DCGAN critic: two stride-2 convolutions with LeakyReLU, then a linear score (no batch norm);
    class-conditional by projection like MlpCritic when n_classes > 0."""

    def __init__(self, width: int = 64, dropout: float = 0.0, n_classes: int = 0) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, width, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            Dropout(dropout),
        )
        self.head = nn.Linear(2 * width * 7 * 7, 1)
        self.label_embedding = nn.Embedding(n_classes, 2 * width * 7 * 7) if n_classes else None

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        features = self.net(x)
        return _projection(self.head(features), features, y, self.label_embedding)


def apply_spectral_norm(module: nn.Module) -> nn.Module:
    """Divide every linear/conv weight by its largest singular value σ(W) (power iteration), in place.

    Each layer is then 1-Lipschitz, so the whole critic is too (LeakyReLU is 1-Lipschitz): the product bound
    L1·L2·… of §1.3.1 with every factor ≤ 1. A projection critic's label embedding is normalised as well, so
    every class vector e_y has length ≤ 1.
    """
    for name, child in list(module.named_children()):
        if isinstance(child, nn.Linear | nn.Conv2d | nn.ConvTranspose2d | nn.Embedding):
            setattr(module, name, spectral_norm(child, n_power_iterations=2))
        else:
            apply_spectral_norm(child)
    return module


def build_gan(
    arch: str = "mlp",
    z_dim: int = 64,
    spectral: bool = False,
    dropout: float = 0.0,
    width: int = 32,
    conditional: bool = False,
) -> tuple[nn.Module, nn.Module]:
    """A fresh (generator, critic) pair; `spectral` wraps every critic layer in spectral normalisation,
    `dropout` is the critic's dropout rate, `width` the DCGAN's channel count (MLP: ignored), `conditional`
    makes both take the digit label: G(z, y) and D(x, y)."""
    check_choice("arch", arch, ARCHS)
    check_int("z_dim", z_dim, minimum=1, maximum=1024)
    check_range("dropout", dropout, 0.0, 0.9)
    check_int("width", width, minimum=1, maximum=512)
    if not isinstance(conditional, bool):
        raise ValueError(f"conditional: expected True or False, got {conditional!r}")
    k = N_CLASSES if conditional else 0
    if arch == "mlp":
        generator, critic = MlpGenerator(z_dim, n_classes=k), MlpCritic(dropout=dropout, n_classes=k)
    else:
        # width 32 rather than DCGAN's usual 64: 4× less compute, and on the CPU the conv generator is the cost.
        generator = DcganGenerator(z_dim, width, n_classes=k)
        critic = DcganCritic(width, dropout=dropout, n_classes=k)
    if spectral:
        apply_spectral_norm(critic)
    return generator, critic


class MnistClassifier(nn.Module):
    """A small CNN digit classifier on [0, 1] images; `features(x)` is its 128-d penultimate layer."""

    FEATURE_DIM = 128

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
        )
        self.fc = nn.Sequential(nn.Linear(32 * 7 * 7, self.FEATURE_DIM), nn.ReLU())
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(self.FEATURE_DIM, N_CLASSES)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate activations, the space in which MNIST-FD compares real and generated digits."""
        return self.fc(self.conv(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x)))
