"""Run one benchmark script under the TensorFlow and the JAX backend and print the two
outputs side by side, line by line (the scripts print the same lines on each backend).

Run: python benchmarks/both_backends.py small_fits.py [script arguments...]
"""

import os
import subprocess
import sys
from itertools import zip_longest
from pathlib import Path

BACKENDS = ("tensorflow", "jax")


def run(script, arguments, backend):
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, str(Path(__file__).parent / script), *arguments], env=env, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"{script} failed on {backend}:\n{done.stderr[-2000:]}")
    return done.stdout.rstrip("\n").splitlines()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    script, arguments = sys.argv[1], sys.argv[2:]
    outputs = [run(script, arguments, backend) for backend in BACKENDS]  # one after the other, never together
    width = max(len(line) for line in outputs[0]) + 2
    print(f"{BACKENDS[0]:<{width}}| {BACKENDS[1]}")
    for left, right in zip_longest(*outputs, fillvalue=""):
        print(f"{left:<{width}}| {right}")
