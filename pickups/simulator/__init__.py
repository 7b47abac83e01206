"""The simulated courier: a small courier HTTP service inside the project, for the demo and the tests.

It speaks the same API the portal's HttpCourierClient speaks to any courier (see docs/couriers.md), keeps its
bookings in its own table, and sends signed status events back to the portal's webhook as time goes by.
"""
