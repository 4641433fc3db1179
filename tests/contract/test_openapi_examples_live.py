"""The document's request examples are requests the API takes: a merchant who copies them from
the reference gets an order paid and refunded, and a customer saved."""

from __future__ import annotations

import pytest

from cli import openapi_examples as examples
from tests.conftest import Mesh

pytestmark = pytest.mark.e2e


def test_the_request_examples_pay_refund_and_save_a_customer(mesh: Mesh) -> None:
    with mesh.client() as client:
        created = client.post("/v1/orders", json=examples.REQUESTS["CreateOrder"])
        assert created.status_code == 200, created.text
        order = created.json()
        assert order["status"] == examples.RESPONSES["CreateOrder"]["status"]

        paid = client.post(f"/v1/orders/{order['id']}:pay", json=examples.REQUESTS["PayOrder"])
        assert paid.status_code == 200, paid.text
        assert paid.json()["status"] == examples.RESPONSES["PayOrder"]["status"]

        refunded = client.post(
            f"/v1/orders/{order['id']}/refunds", json=examples.REQUESTS["CreateRefund"]
        )
        assert refunded.status_code == 200, refunded.text

        customer = client.post("/v1/customers", json=examples.REQUESTS["CreateCustomer"])
        assert customer.status_code == 200, customer.text
