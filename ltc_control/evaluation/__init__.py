"""Scoring closed-loop runs: what a controller achieved, in numbers."""
