"""Portal pages: login (with a per-username lockout), and the home page that routes each role."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import redirect
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

LOGIN_FAILURES_ALLOWED = 10
LOGIN_FAILURE_WINDOW = 15 * 60


def login_failure_key(username: str) -> str:
    return f"login-failures:{(username or '').strip().lower()[:150]}"


def login_locked(username: str) -> bool:
    return (cache.get(login_failure_key(username)) or 0) >= LOGIN_FAILURES_ALLOWED


def login_failed(username: str) -> None:
    key = login_failure_key(username)
    cache.add(key, 0, LOGIN_FAILURE_WINDOW)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, LOGIN_FAILURE_WINDOW)


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:  # type: ignore[no-untyped-def]
        username = request.POST.get("username", "")
        if login_locked(username):
            form = self.get_form()
            form.is_valid()
            form.errors.clear()
            form.add_error(None, _("登录失败次数过多，请 15 分钟后再试"))
            response = self.render_to_response(self.get_context_data(form=form, locked=True))
            response.status_code = 429
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):  # type: ignore[no-untyped-def]
        login_failed(self.request.POST.get("username", ""))
        return super().form_invalid(form)

    def form_valid(self, form):  # type: ignore[no-untyped-def]
        cache.delete(login_failure_key(form.get_user().get_username()))
        return super().form_valid(form)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_platform_staff:
        return redirect("admin:index")
    if user.role == "merchant":
        return redirect("merchant:queue")
    return redirect("web:orders")


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page says: send them to the static icon."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))
