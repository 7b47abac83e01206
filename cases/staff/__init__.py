"""The platform staff's arbitration workspace inside the Django admin (views, forms, reads; no models)."""
