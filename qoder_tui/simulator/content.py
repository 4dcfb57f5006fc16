"""Believable material for simulated turns: tasks, tool calls and their output."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

TASKS = [
    (
        "The nightly CI run of `payments-service` fails in `test_refund_idempotency` about one "
        "time in five. Find out why, fix it, and add a CHANGELOG entry.",
        ["Test Investigator", "Code Fixer", "Docs Writer"],
    ),
    (
        "Upgrade the `orders` API from pydantic v1 to v2 and keep the public JSON schema "
        "byte-for-byte identical.",
        ["Migration Agent", "Schema Checker"],
    ),
    (
        "Profile `GET /search` under load, find the slowest query, and propose an index.",
        ["Profiler", "DB Advisor"],
    ),
    (
        "Review the open PR #482 (retry logic in the webhook dispatcher) for race conditions.",
        ["Reviewer", "Test Writer"],
    ),
    (
        "Write a migration guide for v3 of the CLI: list every removed flag with its replacement.",
        ["Research Agent", "Docs Writer"],
    ),
]

FILES = [
    "src/payments/refunds.py",
    "src/payments/idempotency.py",
    "tests/test_refunds.py",
    "src/orders/schemas.py",
    "src/search/query.py",
    "src/webhooks/dispatcher.py",
    "docs/cli/migration-v3.md",
    "CHANGELOG.md",
    "pyproject.toml",
    "src/common/clock.py",
]

PATTERNS = [
    "idempotency_key",
    "def refund",
    "retry_after",
    "TODO|FIXME",
    "datetime.now\\(",
    "class .*Schema",
    "@pytest.mark.flaky",
    "SELECT .* FROM orders",
]

THOUGHTS = [
    "The failure only shows under parallel runs, so shared state between tests is the first "
    "suspect. The idempotency cache is module-level; two tests using the same key would "
    "collide.",
    "Before editing anything I want the exact assertion that fails and the seed pytest-randomly "
    "used, otherwise I cannot reproduce it.",
    "The schema diff is empty except for `title` fields that v2 adds by default. Setting "
    "`json_schema_extra` per model is noisy; a custom `GenerateJsonSchema` subclass keeps it "
    "in one place.",
    "Three queries dominate the profile. The sequential scan on `orders.customer_id` is the "
    "largest by far; an index there should cut p95 latency roughly in half.",
    "The dispatcher re-reads `attempts` after the await, so two workers can both see 2 and both "
    "schedule attempt 3. That is the race.",
    "I have enough to hand this to a specialist. The investigator should reproduce first; the "
    "fixer should not start before we know the cause.",
]

AGENT_MESSAGES = [
    "## Root cause\n\n`test_refund_idempotency` and `test_partial_refund` share the module-level "
    "`_IDEMPOTENCY_CACHE`. Under `pytest -n 4` they race on the key `refund-42`.\n\n"
    "## Fix\n\n- scope the cache per test with a fixture\n- clear it in `teardown`\n\n"
    "```python\n@pytest.fixture(autouse=True)\ndef _fresh_cache():\n    _IDEMPOTENCY_CACHE.clear()\n"
    "    yield\n    _IDEMPOTENCY_CACHE.clear()\n```\n\n200 consecutive runs passed after the change.",
    "Done. The schema is identical apart from ordering of `required`, which JSON Schema treats "
    "as a set. I added a test that compares both schemas after sorting.",
    "The slowest query is the customer lookup:\n\n```sql\nSELECT * FROM orders WHERE customer_id "
    "= $1 ORDER BY created_at DESC LIMIT 50;\n```\n\nProposed index: `CREATE INDEX CONCURRENTLY "
    "orders_customer_created ON orders (customer_id, created_at DESC);` — p95 goes from **840 ms** "
    "to **31 ms** on the staging copy.",
    "I found one real race (attempt counter read after an await) and one cosmetic issue. "
    "Details are in the review comment; the fix is a single `SELECT ... FOR UPDATE`.",
    "Summary of changes:\n\n1. `refunds.py`: pass the clock explicitly\n2. `tests/conftest.py`: "
    "per-test idempotency cache\n3. `CHANGELOG.md`: entry under *Fixed*\n\nAll 1,204 tests pass.",
    "I could not reproduce the failure with the default seed. Running again with `-p randomly "
    "-p xdist -n 4 --count 50`.",
]

REPORTS = [
    "Reproduced: fails 11/50 runs with `-n 4`. Cause: shared `_IDEMPOTENCY_CACHE` between "
    "`test_refund_idempotency` and `test_partial_refund` (same key `refund-42`).",
    "Patched `tests/conftest.py` with an autouse fixture that clears the cache. 200/200 runs "
    "green. Diff is 9 lines.",
    "CHANGELOG entry added under 0.14.2 → Fixed: 'Flaky refund idempotency test (shared cache).'",
    "Schema check: identical after sorting `required`; no other differences in 48 models.",
    "Index proposal validated on the staging snapshot; no lock contention with CONCURRENTLY.",
]


@dataclass
class ToolCall:
    name: str
    input: dict[str, Any]
    output: str
    is_error: bool = False
    seconds: float = 1.0
    extra: dict[str, Any] = field(default_factory=dict)


def _pytest_output(rng: random.Random, failing: bool) -> str:
    passed = rng.randint(180, 1300)
    if failing:
        return (
            "============================= test session starts ==============================\n"
            "platform linux -- Python 3.12.3, pytest-8.3.4, pluggy-1.5.0\n"
            f"collected {passed + 1} items\n\n"
            "tests/test_refunds.py ....F.....                                         [100%]\n\n"
            "=================================== FAILURES ===================================\n"
            "___________________________ test_refund_idempotency ____________________________\n\n"
            "    def test_refund_idempotency(client):\n"
            "        first = client.post('/refunds', json=REFUND, headers=KEY)\n"
            "        second = client.post('/refunds', json=REFUND, headers=KEY)\n"
            ">       assert second.json()['id'] == first.json()['id']\n"
            "E       AssertionError: assert 'rf_8812' == 'rf_8811'\n\n"
            "tests/test_refunds.py:57: AssertionError\n"
            f"========================= 1 failed, {passed} passed in 14.21s =========================="
        )
    return (
        "============================= test session starts ==============================\n"
        f"collected {passed} items\n\n"
        f"{passed} passed in {rng.uniform(4, 30):.2f}s"
    )


def _file_body(rng: random.Random, path: str) -> str:
    lines = []
    start = rng.randint(1, 200)
    body = [
        "from __future__ import annotations",
        "",
        "import logging",
        "from dataclasses import dataclass",
        "",
        "log = logging.getLogger(__name__)",
        "_IDEMPOTENCY_CACHE: dict[str, str] = {}",
        "",
        "",
        "@dataclass(frozen=True)",
        "class Refund:",
        "    id: str",
        "    amount_cents: int",
        "    reason: str | None = None",
        "",
        "",
        "def refund(payment_id: str, amount_cents: int, *, key: str) -> Refund:",
        "    if key in _IDEMPOTENCY_CACHE:",
        "        return lookup(_IDEMPOTENCY_CACHE[key])",
        "    result = _gateway.refund(payment_id, amount_cents)",
        "    _IDEMPOTENCY_CACHE[key] = result.id",
        "    log.info('refunded %s', payment_id)",
        "    return result",
    ]
    count = rng.randint(8, len(body))
    for i, line in enumerate(body[:count]):
        lines.append(f"{start + i:>5}\t{line}")
    return "\n".join(lines)


def make_tool_call(rng: random.Random, *, allow_error: bool = True) -> ToolCall:
    kind = rng.choices(
        ["Bash", "Read", "Edit", "Grep", "Glob", "Write", "WebFetch"],
        weights=[30, 25, 14, 16, 6, 5, 4],
    )[0]
    fail = allow_error and rng.random() < 0.14
    if kind == "Bash":
        cmd = rng.choice(
            [
                "pytest -x -q tests/test_refunds.py",
                "pytest -n 4 -p randomly --count 20 tests/test_refunds.py",
                "git diff --stat",
                "git log --oneline -5",
                "ruff check src/",
                "python -m mypy src/payments",
                "ls -la src/payments",
                "make build",
            ]
        )
        if cmd.startswith("pytest"):
            out = _pytest_output(rng, fail)
        elif cmd.startswith("git diff"):
            out = " src/payments/refunds.py | 12 ++++++------\n tests/conftest.py        |  9 +++++++++\n 2 files changed, 15 insertions(+), 6 deletions(-)"
        elif cmd.startswith("git log"):
            out = "\n".join(
                f"{rng.getrandbits(28):07x} {msg}"
                for msg in (
                    "fix: clock injection",
                    "test: refunds",
                    "chore: deps",
                    "feat: partial refunds",
                    "docs: api",
                )
            )
        elif cmd.startswith("ls"):
            out = "total 48\ndrwxr-xr-x 2 agent agent 4096 .\n-rw-r--r-- 1 agent agent 3120 refunds.py\n-rw-r--r-- 1 agent agent 1877 idempotency.py\n-rw-r--r-- 1 agent agent  402 __init__.py"
        elif fail:
            out = "src/payments/refunds.py:88:5: F841 local variable 'result' is assigned to but never used\nFound 1 error."
        else:
            out = "All checks passed!"
        if fail and not cmd.startswith("pytest"):
            out = out if "error" in out.lower() else f"bash: exit status 2\n{out}"
        return ToolCall("Bash", {"command": cmd}, out, fail, rng.uniform(0.4, 20.0))
    if kind == "Read":
        path = rng.choice(FILES)
        if fail:
            return ToolCall(
                "Read", {"file_path": path}, f"Error: file not found: {path}", True, 0.1
            )
        return ToolCall("Read", {"file_path": path}, _file_body(rng, path), False, 0.2)
    if kind == "Edit":
        path = rng.choice(FILES)
        old = "_IDEMPOTENCY_CACHE[key] = result.id"
        new = "cache.store(key, result.id)"
        if fail:
            return ToolCall(
                "Edit",
                {"file_path": path, "old_string": old, "new_string": new},
                "Error: old_string not found in file. Read the file again before editing.",
                True,
                0.1,
            )
        return ToolCall(
            "Edit",
            {"file_path": path, "old_string": old, "new_string": new},
            f"The file {path} has been updated (1 replacement).",
            False,
            0.1,
        )
    if kind == "Grep":
        pattern = rng.choice(PATTERNS)
        hits = rng.randint(0, 9)
        out = (
            "\n".join(
                f"{rng.choice(FILES)}:{rng.randint(1, 400)}:    {pattern.replace(chr(92), '')} ..."
                for _ in range(hits)
            )
            or "No matches found"
        )
        return ToolCall("Grep", {"pattern": pattern, "path": "src/"}, out, False, 0.3)
    if kind == "Glob":
        return ToolCall(
            "Glob",
            {"pattern": "**/test_*.py"},
            "\n".join(f"tests/test_{n}.py" for n in ("refunds", "orders", "search", "webhooks")),
            False,
            0.1,
        )
    if kind == "Write":
        path = rng.choice(["tests/conftest.py", "docs/notes.md", "CHANGELOG.md"])
        return ToolCall(
            "Write",
            {"file_path": path, "content": "# generated\n" + "x = 1\n" * rng.randint(1, 5)},
            f"File created successfully at: {path}",
            False,
            0.1,
        )
    url = rng.choice(
        [
            "https://docs.pydantic.dev/latest/migration/",
            "https://www.postgresql.org/docs/current/sql-createindex.html",
        ]
    )
    if fail:
        return ToolCall("WebFetch", {"url": url}, "Error: request timed out after 30s", True, 30.0)
    return ToolCall(
        "WebFetch",
        {"url": url},
        "Fetched 18,204 bytes. Title: " + url.rsplit("/", 2)[-2],
        False,
        2.0,
    )
