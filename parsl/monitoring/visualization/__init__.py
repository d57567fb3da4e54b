"""``parsl-visualize``: the web view of a monitoring database (see ``app.cli_run``)."""
