"""The embedded default: SQLite and the filesystem broker, no server needed."""

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
