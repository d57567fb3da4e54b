"""The tutorial's section 3, "Fault tolerance and caching", cell for cell and unchanged
(tutorial-era spelling: LocalChannel, HTEX max_workers, Config(checkpoint_mode=...),
parsl.clear() without cleanup, NullHandler import), with timings printed around each cell
to show what is served from the cache.

    cd /tmp/somewhere && python /work/main/examples/tutorial_caching_checkpointing.py

Takes about 10 s on a fresh run dir (5 s for the first slow_message, 2 s each for the
first five slow_double calls on one worker... then nothing for the cached ones).
"""
import time

_t0 = time.time()


def mark(label):
    global _t0
    now = time.time()
    print(f"[{label}: {now - _t0:.2f} s]")
    _t0 = now


# ---- App Caching cell ------------------------------------------------------------------
import parsl
from parsl.app.app import python_app, bash_app
from parsl.providers import LocalProvider
from parsl.channels import LocalChannel
from parsl.config import Config
from parsl.executors import HighThroughputExecutor

local_htex = Config(
    executors=[
        HighThroughputExecutor(
            label="htex_Local",
            worker_debug=True,
            max_workers=1,
            provider=LocalProvider(
                channel=LocalChannel(),
                init_blocks=1,
                max_blocks=1,
            )
        )
    ]
)

parsl.load(local_htex)

@python_app(cache = True)
def slow_message(message):
    import time     
    time.sleep(5)
    return message

mark("load")
# First call to slow_message will calcuate the value
first = slow_message("Hello World")
print ("First: %s" % first.result())
mark("first (runs)")

# Second call to slow_message with the same args will
# return immediately
second = slow_message("Hello World")
print ("Second: %s" % second.result())
mark("second (cached)")

# Third call to slow_message with different arguments
# will take some time to calculate values
third = slow_message("Hello World!")
print ("Third: %s" % third.result())
mark("third (runs)")

parsl.clear()

# ---- Checkpointing cell ----------------------------------------------------------------
import parsl
from parsl.app.app import python_app, bash_app
from parsl.providers import LocalProvider
from parsl.channels import LocalChannel
from parsl.config import Config
from parsl.executors import HighThroughputExecutor

local_htex = Config(
    executors=[
        HighThroughputExecutor(
            label="local_htex",
            max_workers=1,
            provider=LocalProvider(
                channel=LocalChannel(),
                init_blocks=1,
                max_blocks=1,
            )
        )
    ],
    checkpoint_mode='task_exit',
)

dfk = parsl.load(local_htex)

@python_app(cache=True)
def slow_double(x):
    import time
    time.sleep(2)
    return x * 2

d = []
for i in range(5):
    d.append(slow_double(i))

# wait for results
print([d[i].result() for i in range(5)])
mark("five slow_double (run)")

parsl.clear()

# ---- Reload from checkpoint cell -------------------------------------------------------
from parsl.utils import get_all_checkpoints
from parsl import set_stream_logger, NullHandler

local_htex = Config(
    executors=[
        HighThroughputExecutor(
            label="local_htex",
            max_workers=1,
            provider=LocalProvider(
                channel=LocalChannel(),
                init_blocks=1,
                max_blocks=1,
            )
        )
    ],
    checkpoint_files = get_all_checkpoints(),
)

parsl.load(local_htex)

# Rerun the same workflow
d = []
for i in range(5):
    d.append(slow_double(i))

# wait for results
print([d[i].result() for i in range(5)])
mark("five slow_double (from checkpoint)")

parsl.clear()
