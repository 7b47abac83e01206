"""The staff workspace in the Django admin: the arbitration queue, read-only records, platform settings.

The admin never writes a case, an event or a refund itself: `state` and everything else on those
models is read-only here, and each change goes through `cases.services` (see `cases/staff/views.py`).
Who sees what follows the platform's groups (agents, supervisors), not Django's per-model permissions:
every platform staff member may look; ruling needs `rule_case`, reassigning `reassign_case`, editing
settings `edit_platform_settings`.
"""

from .base import ReadOnlyAdmin, SettingsAdmin, StaffViewMixin
from .queue import AfterSalesCaseAdmin
from .records import CaseEventAdmin, CaseEvidenceAdmin, CaseMessageAdmin, DeadlineAdmin, RefundAdmin
from .settings import (
    DeadlinePolicyAdmin,
    HolidayAdmin,
    PlatformSettingAdmin,
    durations_in_force,
    human_duration,
)

__all__ = [
    "AfterSalesCaseAdmin", "CaseEventAdmin", "CaseEvidenceAdmin", "CaseMessageAdmin", "DeadlineAdmin",
    "DeadlinePolicyAdmin", "HolidayAdmin", "PlatformSettingAdmin", "ReadOnlyAdmin", "RefundAdmin", "SettingsAdmin",
    "StaffViewMixin", "durations_in_force", "human_duration",
]
