"""`python -m processors.razorpay --port 50071 --api-base https://api.razorpay.com`."""

from processors.razorpay.server import main

main()
