"""Who may import what (api.md "Marketplace data", Authority): the API import is for supervisors and never
creates, changes or promotes a staff or superuser account; no re-import changes a password or a role."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from portal.importer import ImportError_, import_document
from portal.models import Order, Shop, User
from tests.portal.docs import doc
from tests.portal.test_import import snapshot

pytestmark = pytest.mark.django_db
URL = "/api/v1/marketplace/import/"


def marketplace_doc(**changes: Any) -> dict[str, Any]:
    """The base document without its staff users: what a supervisor may import through the API."""
    document = doc(**changes)
    document["users"] = [u for u in document["users"] if u["username"] not in ("imp_carol", "imp_dave")]
    return document


@pytest.fixture
def root(db: Any) -> User:
    return User.objects.create_superuser("root", "root@example.com", "root-pass-1")


def group_names(user: User) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


# --- who may post ------------------------------------------------------------------------------------

def test_agent_posting_a_takeover_document_is_403_and_the_superuser_is_untouched(api, agent, root):
    """The attack of issue #15: an agent re-imports the superuser with a new password and promotes itself."""
    root_hash, root_groups, agent_groups = root.password, group_names(root), group_names(agent)
    takeover = {"users": [
        {"username": "root", "password": "owned-by-carol", "role": "consumer"},
        {"username": agent.username, "password": "pass1234", "role": "staff", "supervisor": True},
    ]}
    response = api(agent).post(URL, takeover, format="json")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    root.refresh_from_db()
    agent.refresh_from_db()
    assert root.password == root_hash and not root.check_password("owned-by-carol")
    assert group_names(root) == root_groups and group_names(agent) == agent_groups
    assert agent.is_platform_staff and not agent.is_supervisor


def test_api_import_is_for_supervisors_only(api, consumer, merchant, agent, supervisor):
    assert api().post(URL, marketplace_doc(), format="json").status_code == 401
    for user in (consumer, merchant, agent):
        response = api(user).post(URL, marketplace_doc(), format="json")
        assert response.status_code == 403 and response.json()["code"] == "permission_denied", user.username
    assert Order.objects.count() == 0 and not User.objects.filter(username__startswith="imp_").exists()
    english = api(agent).post(URL, marketplace_doc(), format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["detail"] == "Only platform supervisors may import marketplace data"
    response = api(supervisor).post(URL, marketplace_doc(), format="json")
    assert response.status_code == 200 and response.json()["created"]["orders"] == 3


# --- staff and superuser accounts through the API ------------------------------------------------------

def test_api_import_of_a_staff_user_is_403_and_writes_nothing(api, supervisor):
    before = snapshot()
    response = api(supervisor).post(URL, doc(), format="json")  # doc() holds imp_carol and imp_dave (staff)
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "permission_denied" and body["field"] == "users[2].role"
    assert snapshot() == before and not Shop.objects.exists()


def test_api_import_cannot_promote_a_consumer_to_staff(api, supervisor, consumer):
    document = {"users": [{"username": consumer.username, "password": "x12345678", "role": "staff",
                           "supervisor": True}]}
    response = api(supervisor).post(URL, document, format="json")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    consumer.refresh_from_db()
    assert consumer.role == "consumer" and not consumer.is_staff and group_names(consumer) == []


@pytest.mark.parametrize("record", [
    {"role": "staff"},
    {"role": "staff", "supervisor": True},
    {"role": "consumer"},
    {"role": "merchant", "shops": ["imp-acme"]},
], ids=["same", "promoted", "demoted", "merchant"])
def test_api_import_cannot_touch_an_existing_staff_account(api, supervisor, agent, record):
    before = snapshot()
    document = marketplace_doc()
    document["users"].append({"username": agent.username, "password": "pass1234", **record})
    response = api(supervisor).post(URL, document, format="json")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert snapshot() == before and not Order.objects.exists()


@pytest.mark.parametrize("change", [
    {"email": "new@example.com"}, {"good_standing": False}, {"role": "merchant", "shops": ["imp-acme"]},
])
def test_api_import_cannot_change_an_existing_superuser(api, supervisor, root, change):
    before = snapshot()
    document = marketplace_doc()
    document["users"].append({"username": "root", "password": "root-pass-1", "role": "consumer",
                              "email": "root@example.com", **change})
    response = api(supervisor).post(URL, document, format="json")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert response.json()["field"].startswith("users[3]")
    assert snapshot() == before and not Order.objects.exists()


def test_api_import_naming_a_superuser_unchanged_changes_nothing(api, supervisor, root):
    """Mentioning an account is not changing it: a new password in the document is ignored (never changed)."""
    root_hash = root.password
    document = {"users": [{"username": "root", "password": "another-one", "role": "consumer",
                           "email": "root@example.com"}]}
    response = api(supervisor).post(URL, document, format="json")
    assert response.status_code == 200 and response.json()["unchanged"]["users"] == 1
    root.refresh_from_db()
    assert root.password == root_hash and root.is_superuser and root.is_staff


# --- passwords and roles on any re-import ----------------------------------------------------------------

def test_reimport_never_changes_a_password(api, supervisor, tmp_path):
    assert api(supervisor).post(URL, marketplace_doc(), format="json").status_code == 200
    alice_hash = User.objects.get(username="imp_alice").password
    again = api(supervisor).post(URL, marketplace_doc(**{"users.0.password": "reset-by-import"}), format="json")
    assert again.status_code == 200 and again.json()["updated"]["users"] == 0
    file = tmp_path / "doc.json"
    file.write_text(json.dumps(doc(**{"users.0.password": "reset-by-command"})), encoding="utf-8")
    call_command("import_marketplace", str(file), stdout=StringIO(), stderr=StringIO())
    alice = User.objects.get(username="imp_alice")
    assert alice.password == alice_hash and alice.check_password("secret123")


def test_reimport_never_changes_a_role_and_names_the_path(api, supervisor, tmp_path):
    assert api(supervisor).post(URL, marketplace_doc(), format="json").status_code == 200
    before = snapshot()
    response = api(supervisor).post(URL, marketplace_doc(**{"users.0.role": "merchant",
                                                             "orders.0.points_used": 0}), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and response.json()["field"] == "users[0].role"
    file = tmp_path / "doc.json"
    file.write_text(json.dumps(doc(**{"users.1.role": "consumer"})), encoding="utf-8")
    with pytest.raises(CommandError, match=r"users\[1\]\.role"):
        call_command("import_marketplace", str(file), stdout=StringIO(), stderr=StringIO())
    with pytest.raises(ImportError_) as excinfo:
        import_document(doc(**{"users.4.role": "merchant"}), operator=True)  # not even the operator
    assert excinfo.value.path == "users[4].role"
    assert snapshot() == before


# --- the operator's command --------------------------------------------------------------------------

def test_command_may_create_staff_and_change_a_supervisor_flag(tmp_path):
    file = tmp_path / "doc.json"
    file.write_text(json.dumps(doc()), encoding="utf-8")
    call_command("import_marketplace", str(file), stdout=StringIO(), stderr=StringIO())
    dave = User.objects.get(username="imp_dave")
    assert dave.is_supervisor and User.objects.get(username="imp_carol").is_platform_staff
    file.write_text(json.dumps(doc(**{"users.3.supervisor": False})), encoding="utf-8")
    call_command("import_marketplace", str(file), stdout=StringIO(), stderr=StringIO())
    dave = User.objects.get(username="imp_dave")
    assert dave.is_platform_staff and not dave.is_supervisor
