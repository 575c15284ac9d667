"""Shared plumbing of the examples (flags, progress bar, checkpoints, plots, summary), kept out
of the example files so that each of them reads as the learning story it tells.

Importing this package first (before NumPy) limits the BLAS library to one thread unless you
set ``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` yourself. The examples'
matrices are small (tens to a few hundred rows) and minigrad calls BLAS between bits of Python:
waking a second BLAS thread for every product costs more than it saves: on 2 shared cores a
training step of char_lstm.py took 2 to 13 s with two threads, 0.7 to 0.9 s with one.
"""
import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
