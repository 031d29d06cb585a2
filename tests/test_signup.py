"""A new shopper signs up on the demo shop: Saleor's accountRegister checks the
confirmation link's host against ALLOWED_CLIENT_HOSTS, host only (no port)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.tokens import default_token_generator
from saleor.account.models import User

from .conftest import ApiClient

REPO = Path(__file__).resolve().parent.parent

ACCOUNT_REGISTER = """
mutation Register($input: AccountRegisterInput!) {
  accountRegister(input: $input) {
    requiresConfirmation
    user { email }
    accountErrors { field code message }
  }
}
"""

CONFIRM_AND_SIGN_IN = """
mutation Confirm($email: String!, $token: String!, $password: String!) {
  confirmAccount(email: $email, token: $token) { accountErrors { code } }
  tokenCreate(email: $email, password: $password) {
    token accountErrors { code }
  }
}
"""


@pytest.mark.parametrize(
    "redirect_url",
    [
        # What the portal's own address is on `make demo`, and its variants.
        "http://127.0.0.1:8000/aftersales/portal/",
        "http://localhost:8000/aftersales/portal/",
        "http://localhost/aftersales/portal/",
        "http://127.0.0.1:9000/aftersales/portal/",
        "http://[::1]:8000/aftersales/portal/",
    ],
)
def test_a_new_shopper_signs_up_with_the_portals_address(db, redirect_url):
    content = ApiClient().data(
        ACCOUNT_REGISTER,
        {
            "input": {
                "email": "new.shopper@example.com",
                "password": "a-long-enough-password-1",
                "redirectUrl": redirect_url,
            }
        },
    )["accountRegister"]
    assert content["accountErrors"] == [], content
    assert content["user"]["email"] == "new.shopper@example.com"
    user = User.objects.get(email="new.shopper@example.com")
    assert user.check_password("a-long-enough-password-1")
    assert content["requiresConfirmation"] is True
    assert not user.is_active  # until the link in the e-mail is followed

    # The link carries a token (Saleor 2.10.1's wheel has no e-mail templates to
    # read it from): confirming with it opens the account, and the shopper signs in.
    confirmed = ApiClient().data(
        CONFIRM_AND_SIGN_IN,
        {
            "email": "new.shopper@example.com",
            "token": default_token_generator.make_token(user),
            "password": "a-long-enough-password-1",
        },
    )
    assert confirmed["confirmAccount"]["accountErrors"] == []
    assert confirmed["tokenCreate"]["accountErrors"] == []
    assert confirmed["tokenCreate"]["token"]


def test_a_foreign_redirect_is_still_refused(db):
    content = ApiClient().data(
        ACCOUNT_REGISTER,
        {
            "input": {
                "email": "new.shopper@example.com",
                "password": "a-long-enough-password-1",
                "redirectUrl": "http://evil.example.com/aftersales/portal/",
            }
        },
    )["accountRegister"]
    assert [(e["field"], e["code"]) for e in content["accountErrors"]] == [
        ("redirectUrl", "INVALID")
    ]
    assert not User.objects.filter(email="new.shopper@example.com").exists()


@pytest.mark.parametrize(
    "configured", ["localhost:8000,127.0.0.1:8000", "localhost:8001, shop.example.com"]
)
def test_configured_client_hosts_with_ports_are_reduced_to_hosts(configured):
    """What bin/demo or an operator may put in the environment: Saleor compares
    hosts without their port, so the demo's settings drop the port."""
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="demo.settings",
        ALLOWED_CLIENT_HOSTS=configured,
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; print(settings.ALLOWED_CLIENT_HOSTS)",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    hosts = [host.split(":")[0].strip() for host in configured.split(",")]
    assert result.stdout.strip() == str(hosts)
