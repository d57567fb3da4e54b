"""Two sites in one workflow: a thread pool and a pilot-job executor.

``roll`` writes a random number to a file on the thread pool, ``gather`` concatenates the
files on the pilot job (HTEX), and ``add_up`` sums them on whichever executor is free. The
config uses today's spellings; the tutorial era's (``LocalProvider(channel=LocalChannel())``,
``max_workers=1``) work too, with a DeprecationWarning naming these. From the repository's
root (the files land in the current directory):

    .venv/bin/python examples/multi_site.py
"""
import parsl
from parsl.app.app import bash_app, python_app
from parsl.config import Config
from parsl.data_provider.files import File
from parsl.executors import HighThroughputExecutor
from parsl.executors.threads import ThreadPoolExecutor
from parsl.providers import LocalProvider

two_sites = Config(executors=[
    ThreadPoolExecutor(label="local_threads", max_threads=8),
    HighThroughputExecutor(label="local_htex", worker_debug=True, max_workers_per_node=1,
                           provider=LocalProvider(init_blocks=1, max_blocks=1)),
])


@bash_app(executors=["local_threads"])
def roll(outputs=()):
    return f"echo $RANDOM > {outputs[0].filepath}"


@bash_app(executors=["local_htex"])
def gather(inputs=(), outputs=()):
    sources = " ".join(f.filepath for f in inputs)
    return f"cat {sources} > {outputs[0].filepath}"


@python_app
def add_up(inputs=()):
    with open(inputs[0]) as f:
        return sum(int(line) for line in f if line.strip())


if __name__ == "__main__":
    parsl.load(two_sites)
    rolls = [roll(outputs=[File(f"random-{i}.txt")]) for i in range(5)]
    combined = gather(inputs=[r.outputs[0] for r in rolls], outputs=[File("all.txt")])
    print(add_up(inputs=[combined.outputs[0]]).result())
    parsl.clear()
