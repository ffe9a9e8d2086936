"""The course map: every page, its part of the sheet, and what a student sees there.

One list serves the home page's map and the sidebar's navigation, so a new page is added in one place. The
sidebar groups the pages by lecture (the GAN half, the adversarial-examples half) instead of Streamlit's flat
file list, which would also show the home page under its file name "app".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CoursePage:
    file: str  # script path relative to the app's folder
    url_path: str  # the deep link: http://host/<url_path>
    title: str
    part: str  # where it is on the sheet
    what: str  # one sentence: what a student sees and changes
    section: str  # sidebar group


GANS, ATTACKS, RUNS = "Generative adversarial networks", "Adversarial examples", "Long runs"

HOME = CoursePage("app.py", "", "🧪 Home: course map", "", "", "")

PAGES: tuple[CoursePage, ...] = (
    CoursePage(
        "pages/1_The_GAN_game.py",
        "The_GAN_game",
        "🎲 The GAN game",
        "§1.1–1.3 · Problem 1",
        "Data p and generator p_G, the optimal discriminator D* = p/(p+p_G), the game value next to "
        "2·JSD − log 4, and why the generator's gradient vanishes when the two densities stop overlapping; "
        "least squares (Pearson χ²) and instance noise.",
        GANS,
    ),
    CoursePage(
        "pages/2_1D_GAN_critics.py",
        "1D_GAN_critics",
        "📉 1D GAN critics",
        "§1.3 · Figures 1–2",
        "Train 1D GANs against a perfect, a standard, a weight-clipped, a gradient-penalty and a spectral-norm "
        "critic side by side, animated, with the JS divergence and W1 falling (or not) on one chart.",
        GANS,
    ),
    CoursePage(
        "pages/3_Lipschitz_critics.py",
        "Lipschitz_critics",
        "📏 Lipschitz critics",
        "§1.3.1 · Problem 2",
        "Spectral norms by power iteration vs SVD, the product bound L1·L2·… vs the measured gradient norm, "
        "weight clipping and spectral normalisation.",
        GANS,
    ),
    CoursePage(
        "pages/8_MNIST_GAN.py",
        "MNIST_GAN",
        "🖼️ MNIST GAN",
        "§1 on real data",
        "Launch a GAN on MNIST (CUDA when present) with a chosen loss and watch losses, quality, class "
        "coverage (mode collapse) and samples live.",
        GANS,
    ),
    CoursePage(
        "pages/4_Attack_a_2D_classifier.py",
        "Attack_a_2D_classifier",
        "🎯 Attack a 2D classifier",
        "§2.1–2.2 · Problem 3",
        "The L∞ square and the L2 circle of radius ε around a point, the loss inside them, FGSM's corner, "
        "FGSM-L2, PGD and the exact optimum; fooling rate vs ε.",
        ATTACKS,
    ),
    CoursePage(
        "pages/5_Black-box_attacks.py",
        "Black-box_attacks",
        "🕶️ Black-box attacks",
        "§2.2",
        "Finite-difference gradient estimates, attacks under a query budget, and transfer attacks from a "
        "surrogate to scikit-learn models.",
        ATTACKS,
    ),
    CoursePage(
        "pages/6_Adversarial_training.py",
        "Adversarial_training",
        "🛡️ Adversarial training",
        "§2.3 · Problem 4",
        "Robust training moves the boundary away from the data; the five perturbation sets of Problem 4 drawn, "
        "answered and measured; MNIST adversarial-training runs with live curves.",
        ATTACKS,
    ),
    CoursePage(
        "pages/7_Attack_explorer.py",
        "Attack_explorer",
        "🔍 Attack explorer",
        "§2.1–2.2 on MNIST",
        "Attack a real digit with FGSM, PGD or a black-box attack and see the perturbation and the probabilities.",
        ATTACKS,
    ),
    CoursePage(
        "pages/9_Runs.py",
        "Runs",
        "🗂️ Runs",
        "all long runs",
        "Every launched run with its status and live curves; compare, cancel, download.",
        RUNS,
    ),
)

SECTIONS = (GANS, ATTACKS, RUNS)


def in_section(section: str) -> list[CoursePage]:
    """The pages of one sidebar group, in the order of the lecture."""
    return [p for p in PAGES if p.section == section]
