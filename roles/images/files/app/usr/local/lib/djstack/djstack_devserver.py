"""The dev flavour's server: the project's own runserver command (Django's, or the one an
installed app such as staticfiles provides), with its handler behind djstack's health paths
(djstack_probe.py), so /-/djstack/alive and /-/djstack/ready answer in dev as under gunicorn.
Run as `python3 -m djstack_devserver ADDRPORT [runserver options]`; the autoreloader restarts
it the same way.
"""

import sys

import django
import djstack_probe
from django.core.management import get_commands, load_command_class


def main() -> None:
    django.setup()
    base = type(load_command_class(get_commands()["runserver"], "runserver"))

    class Command(base):
        def get_handler(self, *args: object, **options: object) -> object:
            return djstack_probe.wrap_wsgi(super().get_handler(*args, **options))

    Command().run_from_argv(["django-admin", "runserver", *sys.argv[1:]])


if __name__ == "__main__":
    main()
