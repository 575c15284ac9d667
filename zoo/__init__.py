"""Applications over ``minigrad`` and ``nn``: the model zoo (``zoo.models``) and the ``minigrad``
command (``zoo.cli``). Nothing here is imported by either package."""
