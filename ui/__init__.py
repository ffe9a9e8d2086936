"""Shared Streamlit helpers for the pages (the only Streamlit code outside app.py and pages/)."""
