"""Moved to `portal.signing` (the shop notices sign with it too); kept here for the pickups app's imports."""

from portal.signing import sign, signed_headers, verify

__all__ = ["sign", "signed_headers", "verify"]
