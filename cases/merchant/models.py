"""Merchant desk models."""
