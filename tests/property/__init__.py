"""Hypothesis stateful tests of the token lifecycle against a reference model."""
