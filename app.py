"""Adversarial Lab — home page: the course map of two lectures (GANs and adversarial examples)."""

import streamlit as st

from ui import common as ui

ctx = ui.setup_page("Adversarial Lab", "🧪")

st.title("🧪 Adversarial Lab")
st.markdown(
    "An interactive companion to the discussion sheet on **generative adversarial networks** and "
    "**adversarial examples** (UC Berkeley CS182, 2021). Every formula on the sheet is computed live here: "
    "change a slider and watch the maths move. Pick a page in the sidebar, or follow the map below."
)

COURSE_MAP = [
    (
        "The_GAN_game",
        "🎲 The GAN game",
        "§1.1–1.2 · Problem 1",
        "Data p and generator p_G, the optimal discriminator D* = p/(p+p_G), the game value next to "
        "2·JSD − log 4, and why the generator's gradient vanishes when the two densities stop overlapping.",
    ),
    (
        "1D_GAN_critics",
        "📉 1D GAN critics",
        "§1.3 · Figures 1–2",
        "Train 1D GANs against a perfect, a standard, a weight-clipped, a gradient-penalty and a spectral-norm "
        "critic side by side, animated, with the JS divergence and W1 falling (or not) on one chart.",
    ),
    (
        "Lipschitz_critics",
        "📏 Lipschitz critics",
        "§1.3.1 · Problem 2",
        "Spectral norms by power iteration vs SVD, the product bound L1·L2·… vs the measured gradient norm, "
        "weight clipping and spectral normalisation.",
    ),
    (
        "Attack_a_2D_classifier",
        "🎯 Attack a 2D classifier",
        "§2.1–2.2 · Problem 3",
        "The L∞ square and the L2 circle of radius ε around a point, the loss inside them, FGSM's corner, "
        "FGSM-L2, PGD and the exact optimum; fooling rate vs ε.",
    ),
    (
        "Black-box_attacks",
        "🕶️ Black-box attacks",
        "§2.2",
        "Finite-difference gradient estimates, attacks under a query budget, and transfer attacks from a "
        "surrogate to scikit-learn models.",
    ),
    (
        "Adversarial_training",
        "🛡️ Adversarial training",
        "§2.3 · Problem 4",
        "Robust training moves the boundary away from the data; the five perturbation sets of Problem 4 drawn, "
        "answered and measured; MNIST adversarial-training runs with live curves.",
    ),
    (
        "Attack_explorer",
        "🔍 Attack explorer",
        "§2.1–2.2 on MNIST",
        "Attack a real digit with FGSM, PGD or a black-box attack and see the perturbation and the probabilities.",
    ),
    (
        "MNIST_GAN",
        "🖼️ MNIST GAN",
        "§1 on real data",
        "Launch a GAN on MNIST (CUDA when present) with a chosen loss and watch losses, quality, class "
        "coverage (mode collapse) and samples live.",
    ),
    (
        "Runs",
        "🗂️ Runs",
        "all long runs",
        "Every launched run with its status and live curves; compare, cancel, download.",
    ),
]

st.subheader("Course map")
for path, title, part, what in COURSE_MAP:
    with st.container(border=True):
        left, right = st.columns([3, 1])
        left.markdown(f"**[{title}]({path})** — {what}")
        right.markdown(f"*{part}*")

st.info(
    "Teaching tip: every page keeps its settings in the address bar, so the link you share opens exactly the "
    "picture on the projector. Turn on **Presenter mode** in the sidebar for larger fonts and lines.",
    icon="🎓",
)
