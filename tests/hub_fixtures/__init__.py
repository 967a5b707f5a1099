"""Helpers for the toolbox.hub tests: a tiny BERT, an HF cache laid out by hand, a fake Hub, a network guard."""
