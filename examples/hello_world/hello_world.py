"""The smallest redun workflow: three tasks, cached on the second run.

redun run hello_world.py main
redun run hello_world.py main --greet Howdy
redun log
"""

from redun import task

redun_namespace = "redun.examples.hello_world"


@task()
def get_planet() -> str:
    return "World"


@task()
def greeter(greet: str, thing: str) -> str:
    return f"{greet}, {thing}!"


@task()
def main(greet: str = "Hello") -> str:
    # Calling a task returns a lazy expression; the scheduler runs get_planet
    # first because greeter needs its result.
    return greeter(greet, get_planet())
