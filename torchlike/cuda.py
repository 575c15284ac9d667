"""``torch.cuda``: whether minigrad's GPU backend (CuPy) can run here."""
import minigrad


def is_available() -> bool:
    return minigrad.cuda_available()


def device_count() -> int:
    return 1 if minigrad.cuda_available() else 0  # minigrad uses the current GPU only


def manual_seed(seed: int) -> None:
    """minigrad draws every random number on the CPU (one generator): this seeds it."""
    minigrad.manual_seed(seed)


manual_seed_all = manual_seed
