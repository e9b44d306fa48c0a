"""Soundness regressions: constructs the engines model exactly, or refuse."""
