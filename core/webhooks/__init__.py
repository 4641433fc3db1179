"""Merchant webhooks: signing, destinations, deliveries and how the API shows them."""
