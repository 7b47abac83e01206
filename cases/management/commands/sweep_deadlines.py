from django.core.management.base import BaseCommand

from cases.sweep import deadlines_sweep


class Command(BaseCommand):
    help = "Fire every due deadline once, now (the same code as the periodic task)."

    def handle(self, *args, **options) -> None:
        fired = deadlines_sweep()
        self.stdout.write(f"fired {fired} deadline(s)")
