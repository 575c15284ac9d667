"""Benchmarks: minigrad against a hand-written NumPy LSTM and PyTorch. Run ``python -m benchmarks``."""

# The variables that BLAS (OpenBLAS, MKL) and PyTorch (OpenMP) read their thread counts from.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
