"""E-mails to shoppers: what each claim's step tells its customer, and the sign-in
links of guests.

``outbox`` writes one row per message in the transaction of the step that causes
it and sends it after commit through Django's e-mail backend, by a Celery task
(``tasks.send_customer_email``), retrying on SMTP failure; ``content`` renders it
in the customer's language from templates a shop may override
(``templates/aftersales/emails/<language>/<kind>.{subject.txt,txt,html}``);
``kinds`` names the messages and the steps that cause them.
"""
