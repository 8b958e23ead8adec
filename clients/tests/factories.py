from __future__ import annotations

import factory

from clients.models import Client, Contact, Tag
from clients.validators import uscc_check_char


def registration_number(n: int) -> str:
    """A valid unified social credit code, different for each ``n``."""
    first17 = f"91310000{n:09d}"
    return first17 + uscc_check_char(first17)


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"tag{n}")


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Client {n} Ltd")
    registration_number = factory.Sequence(lambda n: registration_number(n + 1))
    industry = "Manufacturing"
    phone = factory.Sequence(lambda n: f"021 5555 {n % 10000:04d}")
    email = factory.Sequence(lambda n: f"client{n}@example.cn")

    @factory.post_generation
    def tags(self, create: bool, extracted, **kwargs) -> None:
        if create and extracted:
            self.tags.set(extracted)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    client = factory.SubFactory(ClientFactory)
    name = factory.Sequence(lambda n: f"Contact {n}")
    title = "Purchasing manager"
    phone = factory.Sequence(lambda n: f"138 0013 {n % 10000:04d}")
    email = factory.Sequence(lambda n: f"contact{n}@example.cn")
