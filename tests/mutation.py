"""Power of the random-history machine (tests/test_invariants.py): plant one known
bug at a time in a copy of the services and check the machine catches it.

    bin/mutants [--histories N] [name ...]

Each mutant is a bug that could plausibly be written. The unchanged code must pass
first (otherwise "caught" means nothing); then every mutant must fail the machine.
Exits 1 if a mutant survives. Prints a table for docs/RELIABILITY.md.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# name: (what the bug is, [(code as it is, code with the bug), ...]); each piece
# of code is found wherever it is in the package, exactly once.
MUTANTS = {
    "approve-ignores-other-claims": (
        "approving (e.g. after an appeal) ignores units another claim took",
        [
            (
                "if request.type in (RequestType.RETURN, RequestType.EXCHANGE):\n"
                "            lock_order(request.order_id)",
                "if False:\n            lock_order(request.order_id)",
            )
        ],
    ),
    "approve-beyond-requested": (
        "approving more units than the customer asked for",
        [
            (
                "if quantity < 0 or quantity > line.quantity_requested:",
                "if quantity < 0:",
            )
        ],
    ),
    "create-ignores-earlier-claims": (
        "a new claim counts delivered units, not those still unclaimed",
        [
            (
                "if line.quantity > info.quantity_available:",
                "if line.quantity > info.quantity_fulfilled:",
            )
        ],
    ),
    "receive-beyond-awaited": (
        "receiving more units than are awaited",
        [("if item.quantity > line.quantity_awaiting:", "if False:")],
    ),
    "refund-beyond-claim-value": (
        "an explicit amount is not capped at what the claim is worth",
        [("if amount > quote.maximum_amount:", "if False:")],
    ),
    "refund-settled-units-again": (
        "units received and refunded are refunded again with the next parcel",
        [
            (
                "return max(0, line.quantity_received - committed)",
                "return line.quantity_received",
            )
        ],
    ),
    "refund-settles-apart": (
        "the units a refund paid are settled after its success, in a second "
        "transaction, and quotes read only the lines' counters (the race that "
        "paid one claim three times)",
        [
            (
                "units = _units_to_settle(request, line, committed[str(line.pk)])",
                "units = _units_to_settle(request, line, line.quantity_refunded)",
            ),
            (
                '        _mark_succeeded(locked, txn, reference or txn.token or "")\n'
                "        by = actor_of(locked)\n"
                "        workflow.record_refund(",
                '        _mark_succeeded(locked, txn, reference or txn.token or "")\n'
                "        by = actor_of(locked)\n"
                "    if True:\n        workflow.record_refund(",
            ),
        ],
    ),
    "cancel-after-refund": (
        "the customer may cancel a claim that was already refunded",
        [
            (
                "(*RequestStatus.PENDING, RequestStatus.APPROVED))\n"
                "        if request.refunds.exists() or request.replacement_order_id:",
                "(*RequestStatus.PENDING, RequestStatus.APPROVED,"
                " RequestStatus.RESOLVED))\n        if request.replacement_order_id:",
            )
        ],
    ),
    "event-loses-its-origin": (
        "a step's event records the new status as the one it came from",
        [
            (
                "    from_status = request.status\n    request.status = to_status\n",
                "    request.status = to_status\n    from_status = request.status\n",
            )
        ],
    ),
}


def run_machine(tree: Path, histories: int) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        AFTERSALES_HISTORIES=str(histories),
        AFTERSALES_HISTORIES_NO_SHRINK="1",
        DATABASE_URL=os.environ.get(
            "MUTANTS_DATABASE_URL",
            "postgres://postgres@127.0.0.1:5432/saleor_aftersales_mutants",
        ),
    )
    # `python -m pytest` puts the copy first on sys.path, ahead of the editable
    # install of the real package.
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-x",
            "--reuse-db",
            "-p",
            "no:cacheprovider",
            "tests/test_invariants.py",
        ],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
    )


def copy_tree(target: Path) -> None:
    for name in ("saleor_aftersales", "tests", "demo", "setup.cfg", "manage.py"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name)
        else:
            shutil.copy2(source, target / name)


INVARIANTS = (
    "money_balances",
    "claims_within_worth",
    "units_add_up",
    "statuses_and_events_agree",
)


def caught_by(output: str) -> str:
    """The invariant that failed, or the error a step raised, from pytest's report."""
    frames = re.findall(r"^    def (\w+)\(|^def (\w+)\(", output, re.MULTILINE)
    names = [method or function for method, function in frames]
    failed = [name for name in names if name in INVARIANTS]
    if failed:
        return f"`{failed[-1]}`"
    errors = re.findall(r"^E\s+([\w.]+(?:Error|Exception))\b", output, re.MULTILINE)
    if errors:
        return f"a step raising {errors[-1].split('.')[-1]}"
    failed = re.findall(r"^E\s+(.+)$", output, re.MULTILINE)
    if failed:
        return f"the machine ({failed[0].strip()[:80]})"
    return "the machine"


def plant(tree: Path, name: str, before: str, after: str) -> None:
    """Replace ``before``, found exactly once in the copy's package, by ``after``."""
    found = [
        path
        for path in (tree / "saleor_aftersales").rglob("*.py")
        if before in path.read_text()
    ]
    assert len(found) == 1, f"{name}: code to mutate found in {found}"
    source = found[0].read_text()
    assert source.count(before) == 1, f"{name}: code to mutate found twice"
    found[0].write_text(source.replace(before, after))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--histories", type=int, default=60)
    parser.add_argument("names", nargs="*", default=list(MUTANTS))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        baseline = Path(scratch) / "unchanged"
        copy_tree(baseline)
        started = time.monotonic()
        result = run_machine(baseline, args.histories)
        if result.returncode != 0:
            print(result.stdout[-3000:])
            print("The unchanged code fails the machine: no verdict on mutants.")
            return 1
        print(f"unchanged code passes ({time.monotonic() - started:.0f} s)")
        for name in args.names:
            description, edits = MUTANTS[name]
            tree = Path(scratch) / name
            copy_tree(tree)
            for before, after in edits:
                plant(tree, name, before, after)
            started = time.monotonic()
            result = run_machine(tree, args.histories)
            seconds = time.monotonic() - started
            killed = result.returncode != 0
            verdict = f"caught: {caught_by(result.stdout)}" if killed else "SURVIVED"
            rows.append((name, description, verdict, seconds))
            print(f"{name}: {verdict} ({seconds:.0f} s)", flush=True)
    print()
    print(f"| mutant | the bug | {args.histories} histories | time |")
    print("|---|---|---|---|")
    for name, description, verdict, seconds in rows:
        print(f"| `{name}` | {description} | {verdict} | {seconds:.0f} s |")
    return 0 if all(not row[2] == "SURVIVED" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
