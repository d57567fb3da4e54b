"""Usage tracking (``parsl.usage_tracking``): Chervil accepts the levels and sends nothing."""
