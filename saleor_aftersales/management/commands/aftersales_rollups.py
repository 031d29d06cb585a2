"""Rebuild the analytics rollups from the claims, or fold old days' shards.

``--rebuild`` after restoring data by hand or to check them; ``--fold`` daily
(the shards of past days merged into one row per key, so a year reads few rows).
Reading the analytics page rebuilds them by itself the first time and after the
desk changes its time zone.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ... import rollups
from ...configuration import get_settings


class Command(BaseCommand):
    help = "Rebuild the analytics rollups from the claims, or fold past days' shards."

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true")
        parser.add_argument("--fold", action="store_true")

    def handle(self, *args, rebuild, fold, **options):
        if not (rebuild or fold):
            raise CommandError("Say --rebuild, --fold or both.")
        settings = get_settings()
        if rebuild:
            started = timezone.now()
            rollups.rebuild(settings.business_time_zone)
            seconds = (timezone.now() - started).total_seconds()
            self.stdout.write(f"Rollups rebuilt in {seconds:.1f} s.")
        if fold:
            merged = rollups.fold(rollups.today_in(settings.business_time_zone))
            self.stdout.write(f"{merged} day(s) of shards folded.")
