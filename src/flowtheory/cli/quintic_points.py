"""Placeholder: registered by the module that implements it."""


def register(sub) -> None:
    pass
