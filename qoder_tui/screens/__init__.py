"""Screens: the main view and its modal helpers."""
