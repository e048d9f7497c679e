"""A deterministic book of plans for the benchmarks: N participants with PACE contracts (funding
periods, a core flexible pool, SPCBs, support item budgets, delivered services) in an SQLite
store, and a bulk payment request CSV of M lines across them.

Mixes (``--mix``, see :data:`MIXES`): ``pessimistic`` (the default, the book of the first
figures: about 35% of the lines flagged at 200 lines per participant), ``realistic``, ``clean``,
and ``typical``: budgets that cover the year, distinct lines, and about 3% flagged on purpose
(1.5% future dates, 1% repeated lines, 0.5% participants without a contract); the benchmark's
"realistic book" of issue 15.

``--one-participant`` puts every line on participant 0 (the memory test of a file of one
participant's rows); its budgets are scaled so the money does not run out at once.

Run: python benchmarks/generate_book.py --participants 5000 --lines 1000000 --out /tmp/book
"""

from __future__ import annotations

import argparse
import random
from datetime import date, timedelta
from pathlib import Path

from ndis_rules.adapters.sqlite_store import SqliteContractRepository
from ndis_rules.bpr import COLUMNS, is_valid_abn
from ndis_rules.models import Contract

START = date(2025, 7, 1)
END = date(2026, 6, 30)
TODAY = date(2025, 11, 15)
ITEMS = {  # item -> (category, unit price)
    "01_011_0107_1_1": ("01", "70.23"),
    "01_015_0107_1_1": ("01", "77.38"),
    "04_104_0125_6_1": ("04", "70.23"),
    "15_610_0118_1_3": ("15", "156.16"),
    "07_001_0106_8_3": ("07", "80.06"),
}
PROVIDERS = 200


def abn(n: int) -> str:
    """A valid ABN derived from ``n`` (the checksum digits are searched)."""
    base = f"{n:09d}"
    for prefix in range(10, 100):
        candidate = f"{prefix}{base}"
        if is_valid_abn(candidate):
            return candidate
    raise ValueError(n)


def participant(i: int) -> str:
    return f"43{i:07d}"


def periods(total_cents: int) -> list[dict[str, str]]:
    out = []
    bounds = [START, date(2025, 10, 1), date(2026, 1, 1), date(2026, 4, 1), END + timedelta(1)]
    share = total_cents // 4
    for k in range(4):
        cents = share if k < 3 else total_cents - 3 * share
        out.append({"id": f"FP{k + 1}", "start": bounds[k].isoformat(),
                    "end_inclusive": (bounds[k + 1] - timedelta(1)).isoformat(),
                    "amount": f"{cents // 100}.{cents % 100:02d}"})
    return out


def contract(
    i: int, rng: random.Random, provider_abns: list[str], delivered: int, scale: int = 1
) -> Contract:
    """Participant ``i``'s contract; ``scale`` > 1 multiplies its budgets (the realistic mix)."""
    p1, p2 = provider_abns[i % PROVIDERS], provider_abns[(i * 7 + 3) % PROVIDERS]
    core = rng.randrange(20_000, 60_000) * 100 * scale
    return Contract.model_validate({
        "id": f"C{i:05d}",
        "participant": participant(i),
        "start": START.isoformat(),
        "end_inclusive": END.isoformat(),
        "budgets": [
            {"category": "01", "management": "plan", "total": f"{core // 100}.00",
             "funding": {"periods": periods(core)}},
            {"category": "04", "management": "plan", "total": f"{8000 * scale}.00"},
            {"category": "15", "management": "plan", "total": f"{12000 * scale}.00",
             "funding": {"periods": periods(1_200_000 * scale)}},
            {"category": "07", "management": "plan", "total": f"{3000 * scale}.00"},
        ],
        "provider_budgets": [
            {"id": f"S{i}", "provider": p1, "category": "01", "amount": f"{15000 * scale}.00",
             "start": START.isoformat(), "end_inclusive": END.isoformat()},
        ],
        "support_items": [
            {"id": f"SI{i}", "item": "15_610_0118_1_3", "category": "15", "provider": p2,
             "quantity": str(40 * scale), "rate": "156.16"},
        ],
        "delivered": [
            {"id": f"D{i}-{k}", "invoice_id": f"OLD{i}-{k}", "invoice_number": f"O{k}",
             "provider": p1, "item": "01_011_0107_1_1", "category": "01",
             "management": "plan",
             "from": (START + timedelta(days=k % 130)).isoformat(),
             "to": (START + timedelta(days=k % 130)).isoformat(),
             "quantity": "2", "unit_price": "70.23", "amount": "140.46"}
            for k in range(delivered)
        ],
    })


#: How many lines of a book are flagged: ``pessimistic`` (about a third: future dates, duplicates,
#: expired periods without funds), ``realistic`` (service dates up to yesterday and quantities in
#: quarter hours: few duplicates), ``clean`` (quantities nearly unique: almost no duplicates) and
#: ``typical`` (budgets that cover the year, distinct lines, and about 3% flagged on purpose:
#: 1.5% future dates, 1% repeated lines, 0.5% participants without a contract).
MIXES = ("pessimistic", "realistic", "clean", "typical")


def write_claims(path: Path, participants: int, lines: int, provider_abns: list[str],
                 rng: random.Random, mix: str = "pessimistic", one: bool = False) -> None:
    if mix == "typical" or one:
        _write_typical(path, participants, lines, provider_abns, rng, one)
        return
    items = list(ITEMS)
    days = 150 if mix == "pessimistic" else (TODAY - START).days
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(",".join(COLUMNS) + "\r\n")
        for n in range(lines):
            i = rng.randrange(participants)
            item = items[rng.randrange(len(items))]
            _, price = ITEMS[item]
            day = START + timedelta(days=rng.randrange(0, days))
            while day.weekday() >= 5:
                day += timedelta(days=1) if mix == "pessimistic" else -timedelta(days=1)
            provider = provider_abns[(i + rng.randrange(3)) % PROVIDERS]
            ref = f"B{n // 4:07d}"
            if mix == "pessimistic":
                qty = rng.choice(["1", "2", "1.5", "3"])
            elif mix == "realistic":
                qty = f"{rng.randrange(4, 17) / 4:.2f}"
            else:
                qty = f"{rng.randrange(100, 400) / 100:.2f}"
            d = day.strftime("%Y/%m/%d")
            f.write(f"4050000001,{participant(i)},{d},{d},{item},{ref},{qty},,{price},P2,,,,,,"
                    f"{provider}\r\n")


def _write_typical(path: Path, participants: int, lines: int, provider_abns: list[str],
                   rng: random.Random, one: bool) -> None:
    """The ``typical`` mix (and ``--one-participant``: every line on participant 0)."""
    items = list(ITEMS)
    seen: set[tuple[int, date, str, str]] = set()
    earlier: list[str] = []  # a few earlier lines, to repeat (the mix's duplicates)
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(",".join(COLUMNS) + "\r\n")
        for n in range(lines):
            i = 0 if one else rng.randrange(participants)
            ref = f"B{n // 4:07d}"
            roll = rng.random()
            if roll < 0.01 and earlier:  # a line sent again
                f.write(earlier[rng.randrange(len(earlier))].replace("{ref}", ref))
                continue
            who = participant(participants + i if roll < 0.015 else i)  # no contract
            while True:
                item = items[rng.randrange(len(items))]
                _, price = ITEMS[item]
                if roll < 0.03:  # a future date
                    day = TODAY + timedelta(days=rng.randrange(2, 14))
                else:
                    day = START + timedelta(days=rng.randrange(0, 130))
                while day.weekday() >= 5:
                    day += timedelta(days=1)
                qty = rng.choice(["1", "2", "1.5", "3"])
                if not one and (i, day, item, qty) in seen:
                    continue  # distinct lines: duplicates are only the ones made on purpose
                seen.add((i, day, item, qty))
                break
            provider = provider_abns[(i + rng.randrange(3)) % PROVIDERS]
            d = day.strftime("%Y/%m/%d")
            text = (f"4050000001,{who},{d},{d},{item},{{ref}},{qty},,{price},P2,,,,,,"
                    f"{provider}\r\n")
            if len(earlier) < 1000 and rng.random() < 0.01:
                earlier.append(text)
            f.write(text.replace("{ref}", ref))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=5000)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--delivered", type=int, default=20, help="per contract")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--mix", choices=MIXES, default="pessimistic",
                        help="how many lines are flagged (default: pessimistic, about a third; "
                        "typical: about 3%%)")
    parser.add_argument("--one-participant", action="store_true",
                        help="every line on one participant (the memory test)")
    args = parser.parse_args()
    # typical budgets cover a year of lines; one participant's budgets cover the whole file
    scale = 20 if args.mix == "typical" else 1
    if args.one_participant:
        scale = max(scale, args.lines // 100)
    rng = random.Random(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    provider_abns = [abn(1000 + k) for k in range(PROVIDERS)]
    store_path = args.out / "contracts.sqlite"
    store_path.unlink(missing_ok=True)
    with SqliteContractRepository(store_path) as repo:
        for i in range(args.participants):
            repo.save(contract(i, rng, provider_abns, args.delivered, scale), None)
    write_claims(args.out / "claims.csv", args.participants, args.lines, provider_abns, rng,
                 args.mix, args.one_participant)
    print(f"wrote {store_path} ({args.participants} contracts) and "
          f"{args.out / 'claims.csv'} ({args.lines} lines)")


if __name__ == "__main__":
    main()
