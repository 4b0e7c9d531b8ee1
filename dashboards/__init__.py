"""The Streamlit dashboard over the analytics store: pages in ``views/``, data access in `data`."""
