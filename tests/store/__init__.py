"""Tests of shequn.store."""
