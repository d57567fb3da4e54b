"""What every executor shares: the executor interface (``base``), block bookkeeping for
executors whose workers come from a provider (``blocks``, ``block_errors``), and the
in-process thread pool (``threads``) the kernel also uses for its internal tasks."""
