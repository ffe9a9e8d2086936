"""Plotly figure builders, one module per page: results in, go.Figure out (no Streamlit)."""
