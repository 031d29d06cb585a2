"""Claims and cards reference the plugin's own copy of each order, not Saleor's tables.

Every Saleor order and line is copied with its own primary key as the copy's, so
the claims' and cards' foreign keys keep their values and only change target;
copies made afterwards number on from the largest. The cards' shipment link
becomes the shipment line's id as text.
"""

from django.db import migrations, models
import django.db.models.deletion
import django.utils.timezone


COPY_ORDERS = """
INSERT INTO saleor_aftersales_shoporder (
    id, host_id, number, status, user_email, customer_ref, guest_token, channel,
    currency, total_gross_amount, shipping_price_gross_amount, placed_at, copied_at
)
SELECT o.id, o.id::text, o.id::text, o.status, o.user_email,
       COALESCE(o.user_id::text, ''), CASE WHEN o.user_id IS NULL THEN o.token ELSE '' END, '',
       o.currency, o.total_gross_amount, o.shipping_price_gross_amount, o.created, now()
FROM order_order o;

INSERT INTO saleor_aftersales_shoporderline (
    id, order_id, host_id, variant_ref, product_ref, product_type_ref, product_name,
    variant_name, sku, currency, unit_price_gross_amount, quantity,
    quantity_fulfilled, fulfilled_at
)
SELECT l.id, l.order_id, l.id::text, COALESCE(l.variant_id::text, ''),
       COALESCE(v.product_id::text, ''), COALESCE(p.product_type_id::text, ''),
       l.product_name, l.variant_name, l.product_sku, l.currency,
       l.unit_price_gross_amount, l.quantity, l.quantity_fulfilled,
       (SELECT max(f.created) FROM order_fulfillmentline fl
          JOIN order_fulfillment f ON f.id = fl.fulfillment_id
         WHERE fl.order_line_id = l.id AND f.status = 'fulfilled')
FROM order_orderline l
LEFT JOIN product_productvariant v ON v.id = l.variant_id
LEFT JOIN product_product p ON p.id = v.product_id;

SELECT setval(pg_get_serial_sequence('saleor_aftersales_shoporder', 'id'),
              COALESCE((SELECT max(id) FROM saleor_aftersales_shoporder), 0) + 1, false);
SELECT setval(pg_get_serial_sequence('saleor_aftersales_shoporderline', 'id'),
              COALESCE((SELECT max(id) FROM saleor_aftersales_shoporderline), 0) + 1, false);
-- The lines' checks now, before the claims' tables are altered to point here.
SET CONSTRAINTS ALL IMMEDIATE;
"""

CARDS_SHIPMENT_REF = """
UPDATE saleor_aftersales_warrantycard
   SET fulfillment_line_ref = COALESCE(fulfillment_line_id::text, '');
SET CONSTRAINTS ALL IMMEDIATE;
"""


class Migration(migrations.Migration):

    dependencies = [
        ("saleor_aftersales", "0013_photo_thumbnails"),
        ("order", "0083_merge_20200421_0529"),
        ("product", "0117_auto_20200423_0737"),
    ]

    operations = [
        migrations.CreateModel(
            name="ShopOrder",
            fields=[
                (
                    "id",
                    models.AutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("host_id", models.CharField(max_length=64, unique=True)),
                ("number", models.CharField(max_length=64)),
                ("status", models.CharField(blank=True, default="", max_length=32)),
                (
                    "user_email",
                    models.CharField(blank=True, default="", max_length=254),
                ),
                (
                    "customer_ref",
                    models.CharField(blank=True, default="", max_length=64),
                ),
                (
                    "guest_token",
                    models.CharField(blank=True, default="", max_length=64),
                ),
                ("channel", models.CharField(blank=True, default="", max_length=64)),
                ("currency", models.CharField(max_length=3)),
                (
                    "total_gross_amount",
                    models.DecimalField(decimal_places=2, max_digits=12),
                ),
                (
                    "shipping_price_gross_amount",
                    models.DecimalField(decimal_places=2, max_digits=12),
                ),
                ("placed_at", models.DateTimeField()),
                ("copied_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "ordering": ("pk",),
            },
        ),
        migrations.CreateModel(
            name="ShopOrderLine",
            fields=[
                (
                    "id",
                    models.AutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("host_id", models.CharField(max_length=64, unique=True)),
                (
                    "variant_ref",
                    models.CharField(blank=True, default="", max_length=64),
                ),
                (
                    "product_ref",
                    models.CharField(blank=True, default="", max_length=64),
                ),
                (
                    "product_type_ref",
                    models.CharField(blank=True, default="", max_length=64),
                ),
                ("product_name", models.CharField(max_length=386)),
                (
                    "variant_name",
                    models.CharField(blank=True, default="", max_length=255),
                ),
                ("sku", models.CharField(blank=True, default="", max_length=255)),
                ("currency", models.CharField(max_length=3)),
                (
                    "unit_price_gross_amount",
                    models.DecimalField(decimal_places=2, max_digits=12),
                ),
                ("quantity", models.PositiveIntegerField()),
                ("quantity_fulfilled", models.PositiveIntegerField(default=0)),
                ("fulfilled_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "ordering": ("pk",),
            },
        ),
        migrations.RemoveConstraint(
            model_name="warrantycard",
            name="warranty_card_one_per_unit",
        ),
        migrations.AddField(
            model_name="warrantycard",
            name="fulfillment_line_ref",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunSQL(CARDS_SHIPMENT_REF, migrations.RunSQL.noop),
        migrations.RemoveField(
            model_name="warrantycard",
            name="fulfillment_line",
        ),
        migrations.AddConstraint(
            model_name="warrantycard",
            constraint=models.UniqueConstraint(
                condition=models.Q(_negated=True, fulfillment_line_ref=""),
                fields=("fulfillment_line_ref", "unit_index"),
                name="warranty_card_one_per_unit",
            ),
        ),
        migrations.AddField(
            model_name="shoporderline",
            name="order",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="lines",
                to="saleor_aftersales.ShopOrder",
            ),
        ),
        migrations.AddIndex(
            model_name="shoporder",
            index=models.Index(
                fields=["placed_at"], name="aftersales_shoporder_placed"
            ),
        ),
        migrations.AddIndex(
            model_name="shoporder",
            index=models.Index(
                fields=["user_email"], name="aftersales_shoporder_email"
            ),
        ),
        migrations.AddIndex(
            model_name="shoporder",
            index=models.Index(fields=["number"], name="aftersales_shoporder_number"),
        ),
        migrations.RunSQL(COPY_ORDERS, migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="aftersalesline",
            name="order_line",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="saleor_aftersales.ShopOrderLine",
            ),
        ),
        migrations.AlterField(
            model_name="aftersalesrequest",
            name="order",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="aftersales_requests",
                to="saleor_aftersales.ShopOrder",
            ),
        ),
        migrations.AlterField(
            model_name="aftersalesrequest",
            name="replacement_order",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="saleor_aftersales.ShopOrder",
            ),
        ),
        migrations.AlterField(
            model_name="repairquote",
            name="order",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="saleor_aftersales.ShopOrder",
            ),
        ),
        migrations.AlterField(
            model_name="warrantycard",
            name="order",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="warranty_cards",
                to="saleor_aftersales.ShopOrder",
            ),
        ),
        migrations.AlterField(
            model_name="warrantycard",
            name="order_line",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="warranty_cards",
                to="saleor_aftersales.ShopOrderLine",
            ),
        ),
    ]
