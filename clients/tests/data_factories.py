"""Factories for the data-quality, merge, import and export tests."""

from __future__ import annotations

import factory

from clients.models import Client, Contact
from clients.validators import USCC_ALPHABET, uscc_check_char


def uscc(n: int) -> str:
    """A valid unified social credit code, different for each ``n``."""
    body = "91310000"
    digits = ""
    value = n
    for _ in range(9):
        digits = USCC_ALPHABET[value % 31] + digits
        value //= 31
    first17 = (body + digits)[:17]
    return first17 + uscc_check_char(first17)


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Client {n} Ltd")
    industry = "Manufacturing"
    phone = factory.Sequence(lambda n: f"021 5555 {n:04d}")
    email = factory.Sequence(lambda n: f"info{n}@client.example")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    client = factory.SubFactory(ClientFactory)
    name = factory.Sequence(lambda n: f"Contact {n}")
    email = factory.Sequence(lambda n: f"person{n}@client.example")
