"""Benchmarks: minigrad against a hand-written NumPy LSTM and PyTorch. Run ``python -m benchmarks``."""
