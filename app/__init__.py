"""The Streamlit shell: navigation, shared widgets and plotly figure builders."""
