"""Masking personal data for people who may see that a value exists but not the value itself."""

from __future__ import annotations


def mask_phone(phone: str | None) -> str:
    """138****5678, 057****0001: the first 3 and last 4 characters around a fixed 4-star mask (the mask
    never tells the length); a value too short to keep 7 characters and still hide one is masked whole."""
    value = (phone or "").strip()
    if len(value) < 8:
        return "****" if value else ""
    return f"{value[:3]}****{value[-4:]}"
