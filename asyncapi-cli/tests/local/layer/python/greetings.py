"""A layer's module (`SharedLayer`): on Lambda under /opt/python, which is on `sys.path`."""


def greet(name):
    return f"greetings, {name}"
