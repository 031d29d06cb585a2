"""The core's tables name the shop's accounts, apps, payments, gift cards, variants
and product types by the host's ids, as text, instead of foreign keys into Saleor's
tables: an app host has no access to the shop's database. Each id is kept."""

from django.db import migrations, models

# (model, foreign key, reference field that takes its value)
REFERENCES = [
    ("aftersalesrequest", "user", "customer_ref"),
    ("aftersalesrequest", "assignee", "assignee_ref"),
    ("aftersalesline", "replacement_variant", "replacement_variant_ref"),
    ("aftersalesevent", "user", "user_ref"),
    ("aftersalesevent", "app", "app_ref"),
    ("warrantycardevent", "user", "user_ref"),
    ("warrantycardevent", "app", "app_ref"),
    ("aftersalesrefund", "payment", "payment_ref"),
    ("aftersalesrefund", "transaction", "transaction_ref"),
    ("aftersalesrefund", "gift_card", "gift_card_ref"),
    ("aftersalesrefund", "created_by", "created_by_ref"),
    ("aftersalesrefund", "created_by_app", "created_by_app_ref"),
    ("warrantycard", "variant", "variant_ref"),
    ("returnpolicy", "product_type", "product_type_ref"),
    ("warrantypolicy", "product_type", "product_type_ref"),
]


def _copy(model, foreign_key, reference):
    table = f"saleor_aftersales_{model}"
    return migrations.RunSQL(
        # Checks now, so the table can be altered in the same transaction.
        f"UPDATE {table} SET {reference} = COALESCE({foreign_key}_id::text, '');"
        "SET CONSTRAINTS ALL IMMEDIATE;",
        migrations.RunSQL.noop,
    )


def _operations():
    operations = [
        migrations.RemoveConstraint(
            model_name="aftersalesrefund",
            name="aftersales_refund_one_pending_per_payment",
        ),
    ]
    for model, foreign_key, reference in REFERENCES:
        operations += [
            migrations.AddField(
                model_name=model,
                name=reference,
                field=models.CharField(blank=True, default="", max_length=64),
            ),
            _copy(model, foreign_key, reference),
            migrations.RemoveField(model_name=model, name=foreign_key),
        ]
    for model in ("returnpolicy", "warrantypolicy"):
        operations.append(
            migrations.AlterField(
                model_name=model,
                name="product_type_ref",
                field=models.CharField(max_length=64, unique=True),
            )
        )
    operations += [
        migrations.AddConstraint(
            model_name="aftersalesrefund",
            constraint=models.UniqueConstraint(
                condition=models.Q(status="pending") & ~models.Q(payment_ref=""),
                fields=("payment_ref",),
                name="aftersales_refund_one_pending_per_payment",
            ),
        ),
        migrations.AddIndex(
            model_name="aftersalesrequest",
            index=models.Index(
                fields=["customer_ref"], name="aftersales_request_customer"
            ),
        ),
    ]
    return operations


class Migration(migrations.Migration):

    dependencies = [
        ("saleor_aftersales", "0014_order_copy"),
    ]

    operations = _operations()
