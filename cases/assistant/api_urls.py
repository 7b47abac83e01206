from django.urls import path

from . import api

urlpatterns = [
    path("assistant/ask/", api.AskView.as_view(), name="api-assistant-ask"),
    path("assistant/handoff/", api.HandoffView.as_view(), name="api-assistant-handoff"),
    path("assistant/threads/", api.ThreadListView.as_view(), name="api-assistant-threads"),
    path("assistant/threads/<int:thread_id>/messages/", api.ThreadMessagesView.as_view(),
         name="api-assistant-thread-messages"),
    path("cases/<int:case_id>/reply-suggestions/", api.ReplySuggestionsView.as_view(),
         name="api-case-reply-suggestions"),
]
