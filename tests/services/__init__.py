"""Tests of shequn.services."""
