"""`python -m processors.stripe --port 50062 [--api-base URL]`."""

from processors.stripe.server import main

main()
