"""`python -m processors.sandbox --name sandbox --port 50061 --http-port 8061`."""

from processors.sandbox.server import main

main()
