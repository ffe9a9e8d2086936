"""Adversarial Lab — home page: the course map of two lectures (GANs and adversarial examples)."""

import streamlit as st

from ui import common as ui
from ui.course_map import SECTIONS, in_section

ctx = ui.setup_page("Adversarial Lab", "🧪")

st.title("🧪 Adversarial Lab")
st.markdown(
    "An interactive companion to the discussion sheet on **generative adversarial networks** and "
    "**adversarial examples** (UC Berkeley CS182, 2021). Every formula on the sheet is computed live here: "
    "change a slider and watch the maths move. Pick a page in the sidebar, or follow the course map below: "
    "the GAN half first, then adversarial examples."
)

for section in SECTIONS:
    st.subheader(section)
    for page in in_section(section):
        with st.container(border=True):
            left, right = st.columns([3, 1])
            left.markdown(f"**[{page.title}]({page.url_path})** — {page.what}")
            right.markdown(f"*{page.part}*")

st.info(
    "Teaching tip: every page keeps its settings in the address bar, so the link you share opens exactly the "
    "picture on the projector. Turn on **Presenter mode** in the sidebar for larger fonts and lines.",
    icon="🎓",
)
