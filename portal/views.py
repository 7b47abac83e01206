"""Portal pages: login (failed logins are guarded by portal.login_guard), and the home page that routes each role."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_platform_staff:
        return redirect("admin:index")
    if user.role == "merchant":
        return redirect("merchant:queue")
    return redirect("web:orders")
