"""Scenes that bodies and tasks are placed in, built from code."""
