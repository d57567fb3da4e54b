"""The tutorial's "Multiple Sites" section, unchanged: threads + a local HTEX in one workflow.

`generate` is pinned to the thread pool, `concat` to the pilot-job executor, and `total`
runs on whichever is free.  Run it from any directory:

    python examples/multi_site.py
"""
from parsl.config import Config
from parsl.executors.threads import ThreadPoolExecutor
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider
from parsl.channels import LocalChannel

# Define a configuration for using local threads and pilot jobs
multi_site_config = Config(
    executors=[
        ThreadPoolExecutor(
            max_threads=8,
            label='local_threads'
        ),
        HighThroughputExecutor(
            label="local_htex",
            worker_debug=True,
            max_workers=1,
            provider=LocalProvider(
                channel=LocalChannel(),
                init_blocks=1,
                max_blocks=1,
            ),
        )
    ]
)

import parsl
from parsl.app.app import python_app, bash_app
from parsl.data_provider.files import File

parsl.load(multi_site_config)


# Generate app runs using the "local_threads" executor
@bash_app(executors=["local_threads"])
def generate(outputs=[]):
    return "echo $(( RANDOM )) &> {}".format(outputs[0].filepath)


# Concat app runs using the "local_htex" executor
@bash_app(executors=["local_htex"])
def concat(inputs=[], outputs=[]):
    return "cat {0} > {1}".format(" ".join(i.filepath for i in inputs), outputs[0].filepath)


# Total app runs using either executor
@python_app
def total(inputs=[]):
    total = 0
    with open(inputs[0], 'r') as f:
        for l in f:
            total += int(l)
    return total


# Create 5 files with random numbers
output_files = []
for i in range(5):
    output_files.append(generate(outputs=[File('random-%s.txt' % i)]))

# Concatenate the files into a single file
cc = concat(inputs=[i.outputs[0] for i in output_files], outputs=[File("all.txt")])

# Calculate the sum of the random numbers
result = total(inputs=[cc.outputs[0]])

print(result.result())

parsl.clear()
