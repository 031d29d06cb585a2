"""Issue warranty cards for units fulfilled before the plugin was installed."""

import sys

from django.core.management.base import BaseCommand
from tqdm import tqdm

from ... import warranty
from ...hosts.saleor2 import shop as host
from ...configuration import get_settings


class Command(BaseCommand):
    help = "Issue the missing warranty cards of every fulfilled unit (safe to re-run)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size, **options):
        before = warranty.WarrantyCard.objects.count()
        total = host.fulfillment_lines().count()
        with tqdm(total=total, unit="line", file=sys.stderr) as progress:
            for handled in warranty.backfill(get_settings(), batch_size=batch_size):
                progress.update(handled)
        issued = warranty.WarrantyCard.objects.count() - before
        self.stdout.write(f"Issued {issued} warranty card(s).")
