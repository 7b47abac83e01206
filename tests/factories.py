"""Factories for the marketplace and cases. Build through the real services wherever a case is involved."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from portal.models import Order, OrderItem, Product, Role, Shop, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    role = Role.CONSUMER
    good_standing = True
    password = factory.PostGenerationMethodCall("set_password", "pass1234")

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):  # type: ignore[no-untyped-def]
        if create:
            instance.save()


class ConsumerFactory(UserFactory):
    username = factory.Sequence(lambda n: f"consumer{n}")
    role = Role.CONSUMER


class MerchantFactory(UserFactory):
    username = factory.Sequence(lambda n: f"merchant{n}")
    role = Role.MERCHANT


def make_staff(username: str = "agent", *, supervisor: bool = False) -> User:
    user = UserFactory(username=username, role=Role.STAFF, is_staff=True)
    agents, _ = Group.objects.get_or_create(name="agents")
    user.groups.add(agents)
    if supervisor:
        sup, _ = Group.objects.get_or_create(name="supervisors")
        user.groups.add(sup)
    _grant_staff_perms(user, supervisor)
    return User.objects.get(pk=user.pk)


def _grant_staff_perms(user: User, supervisor: bool) -> None:
    """The data migration gives the groups their permissions; make sure they exist in any test DB."""
    from django.contrib.auth.models import Permission

    agents = Group.objects.get(name="agents")
    perm = Permission.objects.filter(codename="rule_case").first()
    if perm is not None:
        agents.permissions.add(perm)
        if supervisor:
            sup = Group.objects.get(name="supervisors")
            sup.permissions.add(*Permission.objects.filter(
                codename__in=["rule_case", "reassign_case", "edit_platform_settings"]))


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"shop{n}")
    name = factory.LazyAttribute(lambda o: f"{o.code} 旗舰店")
    return_region = "330106"
    return_line = "文三路 1 号"
    return_contact = "售后部"
    return_phone = "0571-88888888"

    @factory.post_generation
    def members(self, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create and extracted:
            for member in extracted:
                self.members.add(member)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("sku",)

    sku = factory.Sequence(lambda n: f"SKU-{n}")
    shop = factory.SubFactory(ShopFactory)
    name = factory.Sequence(lambda n: f"商品 {n}")
    category = "apparel"
    no_reason_returns = True
    warranty_days = 365
    weight_grams = 500
    length_cm, width_cm, height_cm = 30, 20, 10


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    number = factory.Sequence(lambda n: f"T{100000 + n}")
    consumer = factory.SubFactory(ConsumerFactory)
    shop = factory.SubFactory(ShopFactory)
    paid_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=5))
    shipped_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=4))
    signed_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=2))
    address_region = "310104"
    address_line = "漕溪北路 1 号"
    address_contact = "张三"
    address_phone = "13800005678"


class OrderItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderItem

    order = factory.SubFactory(OrderFactory)
    position = factory.Sequence(lambda n: n)
    product = factory.SubFactory(ProductFactory, shop=factory.SelfAttribute("..order.shop"))
    quantity = 1
    unit_price = Decimal("99.00")
    paid = Decimal("99.00")


def jpeg_bytes() -> bytes:
    """A tiny real JPEG."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, "JPEG")
    return buf.getvalue()


def png_bytes() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 200, 30)).save(buf, "PNG")
    return buf.getvalue()
