"""Portal pages: login (failed logins are guarded by portal.login_guard), and the home page that routes each role."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from .http import AuthedRequest


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


@login_required
def home(request: AuthedRequest) -> HttpResponse:
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
