"""Run one benchmark script under the TensorFlow and the JAX backend (and PyTorch with
--torch) and print the outputs side by side, line by line (the scripts print the same
lines on each backend).

Run: python benchmarks/backends.py [--torch] small_fits.py [script arguments...]
"""

import os
import subprocess
import sys
from itertools import zip_longest
from pathlib import Path


def run(script, arguments, backend):
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, str(Path(__file__).parent / script), *arguments], env=env, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"{script} failed on {backend}:\n{done.stderr[-2000:]}")
    return done.stdout.rstrip("\n").splitlines()


if __name__ == "__main__":
    arguments = sys.argv[1:]
    backends = ["tensorflow", "jax"]
    if arguments[:1] == ["--torch"]:
        backends.append("torch")
        arguments = arguments[1:]
    if not arguments:
        sys.exit(__doc__)
    script, arguments = arguments[0], arguments[1:]
    outputs = [run(script, arguments, backend) for backend in backends]  # one after the other, never together
    columns = [[backend, *output] for backend, output in zip(backends, outputs)]
    widths = [max(map(len, column)) + 2 for column in columns[:-1]]
    for cells in zip_longest(*columns, fillvalue=""):
        print("".join(f"{cell:<{width}}| " for cell, width in zip(cells, widths)) + cells[-1])
