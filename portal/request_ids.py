"""Eager tasks (the test settings run tasks in the caller's thread) keep the caller's request id.

django-guid's Celery hooks give a task the id its message carried, or a new one, and clear it afterwards.
A task run eagerly has no message: without this it would log under a new id and leave the request that
called it with none. Real workers never take this path."""

from __future__ import annotations

from typing import Any

from celery import Task
from celery.signals import task_postrun, task_prerun
from django.conf import settings
from django_guid import get_guid, set_guid

_CALLER = "portal_caller_request_id"


def _header() -> str:
    return str(settings.DJANGO_GUID["GUID_HEADER_NAME"])


def hand_over_to_eager_task(task: Task, **kwargs: Any) -> None:
    """Connected before django-guid's task_prerun: the eager task reads the caller's id as its header."""
    caller = get_guid()
    if task.request.is_eager and caller:
        setattr(task.request, _header(), caller)
        setattr(task.request, _CALLER, caller)


def give_back_after_eager_task(task: Task, **kwargs: Any) -> None:
    """Connected after django-guid's task_postrun (which clears the id): the caller has its id again."""
    caller = getattr(task.request, _CALLER, None)
    if task.request.is_eager and caller:
        set_guid(caller)


def connect() -> None:
    task_prerun.connect(hand_over_to_eager_task, weak=False, dispatch_uid="portal-eager-guid-in")


def connect_after_django_guid() -> None:
    task_postrun.connect(give_back_after_eager_task, weak=False, dispatch_uid="portal-eager-guid-out")
