"""Tests of shequn.cli."""
