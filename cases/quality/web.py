"""The rating form on the consumer's closed case page (售后服务评价); the view is in cases/web/views.py."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy

from portal import sqlcache

from ..models import AfterSalesCase
from .models import RATING_TAGS, CaseRating
from .ratings import COMMENT_MAX, RATING_WINDOW, case_used_pickup, terminal_since

STAR_CHOICES = [(n, "★" * n) for n in range(5, 0, -1)]
TAG_LABELS = {code: gettext_lazy(label) for code, label in RATING_TAGS.items()}


class RatingForm(forms.Form):
    stars = forms.TypedChoiceField(label=gettext_lazy("商家售后处理"), choices=STAR_CHOICES, coerce=int,
                                   widget=forms.RadioSelect, error_messages={"required": gettext_lazy("请选择星级")})
    tags = forms.MultipleChoiceField(label=gettext_lazy("标签"), required=False,
                                     choices=list(TAG_LABELS.items()), widget=forms.CheckboxSelectMultiple)
    comment = forms.CharField(label=gettext_lazy("评价内容"), required=False, max_length=COMMENT_MAX,
                              widget=forms.Textarea(attrs={"rows": 3, "maxlength": COMMENT_MAX}))
    pickup_stars = forms.TypedChoiceField(label=gettext_lazy("上门取件服务"), choices=[("", "—"), *STAR_CHOICES],
                                          coerce=int, empty_value=None, required=False)

    def __init__(self, *args: Any, with_pickup: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not with_pickup:
            del self.fields["pickup_stars"]


def _rating_of(case_id: int) -> Any:
    """The case's rating, as `CaseRating.objects.filter(case=case).first()` reads it."""
    qs = CaseRating.objects.filter(case_id=case_id)
    return (qs if qs.ordered else qs.order_by("pk"))[:1]


def rating_context(case: AfterSalesCase, role: str | None, form: RatingForm | None = None) -> dict[str, Any]:
    """What the case page shows of the rating: the rating given, or the form while it may still be given."""
    found = sqlcache.objects("case_rating", _rating_of, case_id=case.pk)
    rating = found[0] if found else None
    may_rate = False
    rate_until = None
    used_pickup = False
    if rating is None and role == "consumer" and case.is_terminal:
        since = terminal_since(case)
        if since is not None and timezone.now() <= since + RATING_WINDOW:
            may_rate, rate_until = True, since + RATING_WINDOW
            used_pickup = case_used_pickup(case)
    if may_rate and form is None:
        form = RatingForm(with_pickup=used_pickup)
    return {"rating": rating, "may_rate": may_rate, "rate_until": rate_until, "rating_form": form,
            "rating_star_marks": "★" * rating.stars if rating else "",
            "rating_tag_names": [TAG_LABELS.get(t, t) for t in rating.tags] if rating else []}
