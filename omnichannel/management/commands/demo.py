"""Start the demo: migrate, generate the retail network once, then run web + Celery worker + beat."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from inventory.models import Location
from oms.models import StaffProfile
from oms.services import staff_create

from .generate_demo_data import demo_login_stores

# Well-known demo logins, one per role (the admin is Django's superuser admin / admin).
DEMO_STAFF = [
    ("store", "demo-store", StaffProfile.Role.STORE_STAFF),
    ("agent", "demo-agent", StaffProfile.Role.AGENT),
    ("supervisor", "demo-supervisor", StaffProfile.Role.SUPERVISOR),
]


class Command(BaseCommand):
    help = "Run the demo on this machine: web on --port, a Celery worker and beat, on demo data."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="Prepare the data and exit.")

    def handle(self, *args, port, no_serve, **options):
        if not settings.DEBUG:
            raise CommandError("The demo creates a well-known admin login; run it with DEBUG=1.")
        call_command("migrate", interactive=False, verbosity=0)
        if not Location.objects.exists():
            self.stdout.write("Generating demo data…")
            call_command("generate_demo_data")
        self._ensure_logins()
        if no_serve:
            return
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        celery = [sys.executable, "-m", "celery", "-A", "omnichannel"]
        commands = {
            "web": [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
            "worker": [*celery, "worker", "--pool=solo", "--loglevel=INFO"],
            "beat": [*celery, "beat", "--loglevel=INFO"],
        }
        processes = {name: subprocess.Popen(cmd, env=os.environ.copy()) for name, cmd in commands.items()}
        # A plain `kill` must stop the children too, as Ctrl-C does.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo running: http://127.0.0.1:{port}/ — logins: store / demo-store (store staff), "
                "agent / demo-agent, supervisor / demo-supervisor, admin / admin (also /admin/); "
                f"worker pid {processes['worker'].pid}, beat pid {processes['beat'].pid}. Ctrl-C stops all."
            )
        )
        try:
            while all(p.poll() is None for p in processes.values()):
                time.sleep(1)
            stopped = [n for n, p in processes.items() if p.poll() is not None]
            raise CommandError(f"{', '.join(stopped)} stopped; shutting the demo down.")
        except KeyboardInterrupt:
            pass
        finally:
            for p in processes.values():
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p in processes.values():
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()

    def _ensure_logins(self) -> None:
        """The demo's people: an admin, and store staff of the two busiest pickup stores, an agent, a supervisor."""
        user_model = get_user_model()
        if not user_model.objects.filter(username="admin").exists():
            user_model.objects.create_superuser("admin", "admin@example.com", "admin")
        store_codes = demo_login_stores()
        for username, password, role in DEMO_STAFF:
            if not user_model.objects.filter(username=username).exists():
                codes = store_codes if role == StaffProfile.Role.STORE_STAFF else []
                staff_create(username=username, password=password, role=role, store_codes=codes)
