"""Adversarial Lab engine: the lecture's maths, trainers, attacks, runs and figures (no Streamlit here)."""
