"""Helpers shared by the test tree."""
