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
        ["Research Agent", "Guide Writer"],
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


# --------------------------------------------------------------------------- roles
#
# What each child does follows from the task it is handed: its thoughts, its tool
# calls and its report back are about that task, not drawn from a common pool.

Call = tuple[str, dict[str, Any], str, str | None]
"""(tool, input, output, output when it fails or None if it does not fail)."""


@dataclass(frozen=True)
class Role:
    thoughts: list[str]
    calls: list[Call]
    report: str


ROLES: dict[str, Role] = {
    "Test Investigator": Role(
        [
            "The failure only shows under parallel runs, so shared state between tests is the "
            "first suspect. I need the seed and the exact assertion before anything else.",
            "11 of 50 runs fail and only with `-n 4`: two tests must share something. The "
            "module-level `_IDEMPOTENCY_CACHE` is the obvious candidate.",
        ],
        [
            (
                "Bash",
                {"command": "pytest -n 4 -p randomly --count 50 tests/test_refunds.py"},
                "collected 550 items\n\n11 failed, 539 passed in 41.07s",
                "error: unrecognized arguments: --count (is pytest-repeat installed?)",
            ),
            (
                "Grep",
                {"pattern": "_IDEMPOTENCY_CACHE", "path": "src/"},
                "src/payments/idempotency.py:12:_IDEMPOTENCY_CACHE: dict[str, str] = {}\n"
                "tests/test_refunds.py:8:from payments.idempotency import _IDEMPOTENCY_CACHE",
                None,
            ),
            (
                "Read",
                {"file_path": "tests/test_refunds.py"},
                "   41\tKEY = {'Idempotency-Key': 'refund-42'}\n   57\t    assert second.json()['id'] "
                "== first.json()['id']\n   88\tdef test_partial_refund(client):\n   89\t    r = "
                "client.post('/refunds', json=PARTIAL, headers=KEY)",
                None,
            ),
        ],
        "Reproduced: fails 11/50 runs with `-n 4`. Cause: shared `_IDEMPOTENCY_CACHE` between "
        "`test_refund_idempotency` and `test_partial_refund` (same key `refund-42`).",
    ),
    "Code Fixer": Role(
        [
            "The cache must not outlive a test. An autouse fixture that clears it keeps the "
            "production code unchanged.",
            "After the fixture, run the flaky test 200 times in parallel before calling it fixed.",
        ],
        [
            (
                "Read",
                {"file_path": "tests/conftest.py"},
                "    1\timport pytest\n    2\t\n    3\tfrom payments.app import create_app",
                None,
            ),
            (
                "Edit",
                {
                    "file_path": "tests/conftest.py",
                    "old_string": "import pytest",
                    "new_string": "import pytest\n\nfrom payments.idempotency import _IDEMPOTENCY_CACHE",
                },
                "The file tests/conftest.py has been updated (1 replacement).",
                "Error: old_string not found in file. Read the file again before editing.",
            ),
            (
                "Bash",
                {"command": "pytest -n 4 -p randomly --count 200 tests/test_refunds.py"},
                "collected 2200 items\n\n2200 passed in 162.40s",
                None,
            ),
        ],
        "Patched `tests/conftest.py` with an autouse fixture that clears the cache. 200/200 runs "
        "green. Diff is 9 lines.",
    ),
    "Docs Writer": Role(
        [
            "The CHANGELOG uses Keep a Changelog; a test-only fix goes under Fixed in the next "
            "patch release.",
        ],
        [
            (
                "Read",
                {"file_path": "CHANGELOG.md"},
                "## [Unreleased]\n\n## [0.14.1] - 2026-11-02\n### Fixed\n- Partial refunds rounding",
                None,
            ),
            (
                "Edit",
                {
                    "file_path": "CHANGELOG.md",
                    "old_string": "## [Unreleased]",
                    "new_string": "## [Unreleased]\n### Fixed\n- Flaky refund idempotency test (shared cache)",
                },
                "The file CHANGELOG.md has been updated (1 replacement).",
                "Error: file has been modified since it was read. Read it again.",
            ),
        ],
        "CHANGELOG entry added under 0.14.2 → Fixed: 'Flaky refund idempotency test (shared "
        "cache).'",
    ),
    "Guide Writer": Role(
        [
            "Every removed flag needs its replacement and one example; a table reads better "
            "than prose.",
        ],
        [
            (
                "Write",
                {
                    "file_path": "docs/cli/migration-v3.md",
                    "content": "# Migrating to v3\n\n| removed | use instead |\n|---|---|",
                },
                "File created successfully at: docs/cli/migration-v3.md",
                None,
            ),
            (
                "Bash",
                {"command": "cli-v3 --format=v2 --color=never --config cli.toml status"},
                "ok: 3 flags checked against v3.0.0",
                "error: unknown flag --format (is cli-v3 on PATH?)",
            ),
        ],
        "Wrote `docs/cli/migration-v3.md`: a table of the 3 removed flags with replacements, each "
        "example run against v3.0.0.",
    ),
    "Migration Agent": Role(
        [
            "v2 renames `.dict()` to `.model_dump()` and `Config` to `model_config`; bump-pydantic "
            "does most of it, the validators need hand work.",
        ],
        [
            (
                "Bash",
                {"command": "bump-pydantic src/orders"},
                "[14 files] Refactored: 14, skipped: 0",
                "error: libcst parse failure in src/orders/legacy.py",
            ),
            (
                "Bash",
                {"command": "pytest -q tests/orders"},
                "312 passed in 9.84s",
                "E   pydantic_core._pydantic_core.ValidationError: 1 validation error for Order",
            ),
            (
                "WebFetch",
                {"url": "https://docs.pydantic.dev/latest/migration/"},
                "Fetched 18,204 bytes. Title: Migration Guide",
                "Error: request timed out after 30s",
            ),
        ],
        "Migrated 14 modules to pydantic v2 (`model_config`, `field_validator`); 312 tests pass.",
    ),
    "Schema Checker": Role(
        [
            "Compare the v1 and v2 JSON schemas model by model; `required` is a set, so sort it "
            "before comparing.",
        ],
        [
            (
                "Bash",
                {"command": "python scripts/dump_schemas.py --out /tmp/v2.json"},
                "wrote 48 schemas to /tmp/v2.json",
                None,
            ),
            (
                "Bash",
                {"command": "python scripts/diff_schemas.py /tmp/v1.json /tmp/v2.json"},
                "48 models compared: 0 differences (after sorting `required`)",
                "Traceback (most recent call last):\nKeyError: 'OrderLine'",
            ),
        ],
        "Schema check: identical after sorting `required`; no other differences in 48 models.",
    ),
    "Profiler": Role(
        [
            "Profile under realistic load first; the slowest endpoint is not always the slowest "
            "query.",
        ],
        [
            (
                "Bash",
                {"command": "locust -f load/search.py --headless -u 200 -t 60s"},
                "GET /search  p50 120 ms  p95 840 ms  p99 1.9 s  (12,408 requests)",
                None,
            ),
            (
                "Bash",
                {
                    "command": "psql -c 'SELECT query, mean_exec_time FROM pg_stat_statements "
                    "ORDER BY 2 DESC LIMIT 3'"
                },
                "SELECT * FROM orders WHERE customer_id = $1 ... | 611.2\n"
                "SELECT count(*) FROM order_lines ...         |  48.9",
                "psql: error: connection refused",
            ),
        ],
        "Slowest query: `orders` by `customer_id` ordered by `created_at` (611 ms mean, p95 840 ms "
        "for GET /search).",
    ),
    "DB Advisor": Role(
        [
            "A composite index on (customer_id, created_at DESC) serves both the filter and the "
            "sort; build it CONCURRENTLY so writes continue.",
        ],
        [
            (
                "Bash",
                {
                    "command": "psql -c 'EXPLAIN ANALYZE SELECT * FROM orders WHERE customer_id "
                    "= 42 ORDER BY created_at DESC LIMIT 50'"
                },
                "Index Scan using orders_customer_created on orders  (actual time=0.031..0.412)",
                'ERROR:  relation "orders_customer_created" does not exist',
            ),
            (
                "WebFetch",
                {"url": "https://www.postgresql.org/docs/current/sql-createindex.html"},
                "Fetched 41,877 bytes. Title: CREATE INDEX",
                None,
            ),
        ],
        "Index proposal validated on the staging snapshot; no lock contention with CONCURRENTLY.",
    ),
    "Reviewer": Role(
        [
            "The dispatcher re-reads `attempts` after the await, so two workers can both see 2 "
            "and both schedule attempt 3. That is the race.",
        ],
        [
            (
                "Read",
                {"file_path": "src/webhooks/dispatcher.py"},
                "  120\t    attempts = await store.attempts(hook.id)\n  121\t    await asyncio.sleep"
                "(backoff(attempts))\n  122\t    await store.set_attempts(hook.id, attempts + 1)",
                None,
            ),
            (
                "Bash",
                {"command": "gh pr diff 482"},
                " src/webhooks/dispatcher.py | 31 +++++++++-----",
                "error: could not find pull request #482",
            ),
        ],
        "PR #482: one real race (attempt counter read after an await; fix with SELECT ... FOR "
        "UPDATE) and one cosmetic issue.",
    ),
    "Test Writer": Role(
        [
            "A test for the race needs two dispatchers and a barrier at the await; without the "
            "barrier it passes by luck.",
        ],
        [
            (
                "Write",
                {
                    "file_path": "tests/test_dispatcher_race.py",
                    "content": "async def test_two_workers_do_not_double_schedule(): ...",
                },
                "File created successfully at: tests/test_dispatcher_race.py",
                None,
            ),
            (
                "Bash",
                {"command": "pytest -q tests/test_dispatcher_race.py"},
                "1 failed in 0.84s  (as expected before the fix)",
                None,
            ),
        ],
        "Added `tests/test_dispatcher_race.py`: fails on the PR as it stands, passes with FOR "
        "UPDATE.",
    ),
    "Research Agent": Role(
        [
            "The release notes and `--help` of v2 and v3 list the flags; diffing the two help "
            "texts gives the complete list.",
        ],
        [
            (
                "Bash",
                {"command": "diff <(cli-v2 --help) <(cli-v3 --help)"},
                "< --legacy-output\n< --no-color\n> --color=never\n< --config-dir DIR\n> --config FILE",
                None,
            ),
            (
                "Grep",
                {"pattern": "deprecated", "path": "docs/cli/"},
                "docs/cli/v2.md:88: --legacy-output is deprecated and will be removed in v3",
                None,
            ),
        ],
        "Removed in v3: --legacy-output (use --format=v2), --no-color (--color=never), "
        "--config-dir (--config FILE). Full diff attached.",
    ),
}


def role_tool_call(rng: random.Random, role: Role, *, allow_error: bool = True) -> ToolCall:
    """One of the role's own tool calls; now and then the failing variant, where it has one."""
    tool, args, output, failed = rng.choice(role.calls)
    fail = allow_error and failed is not None and rng.random() < 0.2
    return ToolCall(
        tool, dict(args), failed if fail and failed else output, fail, rng.uniform(0.2, 6.0)
    )


ROLES["Deployer"] = Role(
    [
        "Build the artefacts first; the deploy itself needs an approval under the release policy.",
        "Artefacts are built. Deploying to production needs a human OK under the policy.",
    ],
    [
        (
            "Bash",
            {"command": "make dist VERSION=2.8.0"},
            "built dist/payments-2.8.0.tar.gz\nbuilt dist/payments-2.8.0-py3-none-any.whl",
            None,
        ),
        (
            "Bash",
            {"command": "./deploy.sh --env staging --version 2.8.0 --check"},
            "staging: 2.8.0 healthy (12/12 pods ready)",
            None,
        ),
        (
            "Bash",
            {"command": "./deploy.sh --env production --version 2.8.0"},
            "production: 2.8.0 rolled out (24/24 pods ready)",
            None,
        ),
    ],
    "",
)


def call_of(role: Role, index: int) -> ToolCall:
    """One of a role's calls, as it is (no failing variant), where the story needs that one."""
    tool, args, output, _failed = role.calls[index]
    return ToolCall(tool, dict(args), output, False, 1.0)


ROLE_TASKS: dict[str, str] = {
    "Test Investigator": "Reproduce the flaky `test_refund_idempotency` failure under `-n 4` and "
    "find its cause. Report the cause with the evidence; do not fix anything yet.",
    "Code Fixer": "Make `test_refund_idempotency` pass reliably in parallel runs without changing "
    "production behaviour. Report the diff size and how many runs passed.",
    "Docs Writer": "Add the CHANGELOG entry for the fix, in the project's existing style.",
    "Guide Writer": "Turn the list of removed flags into the v3 migration guide: a table of each "
    "flag and its replacement, with one example each.",
    "Migration Agent": "Move `src/orders` from pydantic v1 to v2. Keep behaviour; report what you "
    "changed and the test result.",
    "Schema Checker": "Compare the JSON schema of every orders model before and after the "
    "migration and report any difference.",
    "Profiler": "Load-test `GET /search` and find the slowest query behind it, with numbers.",
    "DB Advisor": "Propose an index for the slowest `orders` query and check it on the staging "
    "snapshot.",
    "Reviewer": "Review PR #482 (webhook dispatcher retries) for race conditions.",
    "Test Writer": "Write a test that fails if two dispatchers can schedule the same retry.",
    "Research Agent": "List every flag removed in v3 of the CLI, each with its replacement.",
    "Deployer": "Build the release artefacts and deploy 2.8.0 to production.",
}

COORDINATOR: dict[int, Role] = {
    0: Role(
        [
            "I have enough to hand this to specialists. The investigator should reproduce "
            "first; the fixer should not start before we know the cause.",
        ],
        [
            (
                "Bash",
                {"command": "gh run list --workflow nightly.yml --limit 5"},
                "completed  failure  nightly  main  2h\ncompleted  success  nightly  main  1d\n"
                "completed  success  nightly  main  2d\ncompleted  failure  nightly  main  3d\n"
                "completed  success  nightly  main  4d",
                None,
            ),
            (
                "Grep",
                {"pattern": "def test_refund_idempotency", "path": "tests/"},
                "tests/test_refunds.py:52:def test_refund_idempotency(client):",
                None,
            ),
        ],
        AGENT_MESSAGES[0],
    ),
    1: Role(
        [
            "The migration and the schema check are separate jobs: one agent migrates, another "
            "verifies the schema did not move.",
        ],
        [
            (
                "Grep",
                {"pattern": "from pydantic import", "path": "src/orders/"},
                "src/orders/schemas.py:3:from pydantic import BaseModel, validator\n"
                "src/orders/refunds.py:2:from pydantic import BaseModel, Field",
                None,
            ),
            (
                "Bash",
                {"command": "pip show pydantic | head -2"},
                "Name: pydantic\nVersion: 1.10.13",
                None,
            ),
            (
                "Bash",
                {"command": "git diff --stat main -- src/orders"},
                " src/orders/audit.py     |  6 +++---\n src/orders/customers.py | 14 +++++++-------\n"
                " src/orders/discounts.py |  8 ++++----\n src/orders/invoices.py  | 22 +++++++++++-----------\n"
                " src/orders/refunds.py   | 10 +++++-----\n src/orders/schemas.py   | 31 ++++++++++++++++---------------\n"
                " src/orders/shipping.py  | 12 ++++++------\n tests/orders/conftest.py |  4 ++--\n"
                " 8 files changed, 54 insertions(+), 53 deletions(-)",
                None,
            ),
        ],
        AGENT_MESSAGES[1],
    ),
    2: Role(
        ["Measure first, then advise: the profiler finds the query, the DB advisor the index."],
        [
            (
                "Read",
                {"file_path": "src/search/query.py"},
                "   40\tdef search(customer_id, text):\n   41\t    rows = db.fetch(ORDERS_BY_CUSTOMER, "
                "customer_id)",
                None,
            ),
            (
                "Bash",
                {"command": "curl -s localhost:9100/metrics | grep search_latency_p95"},
                'search_latency_p95{route="/search"} 0.84',
                None,
            ),
        ],
        AGENT_MESSAGES[2],
    ),
    3: Role(
        ["A reviewer reads for the race; a test writer proves it with a failing test."],
        [
            (
                "Bash",
                {"command": "gh pr view 482 --json title,changedFiles"},
                '{"title": "Retry failed webhook deliveries", "changedFiles": 3}',
                None,
            ),
            (
                "Bash",
                {"command": "gh pr diff 482 --name-only"},
                "src/webhooks/dispatcher.py\nsrc/webhooks/retry.py\ntests/test_dispatcher.py",
                None,
            ),
        ],
        AGENT_MESSAGES[3],
    ),
    4: Role(
        [
            "The research agent collects the removed flags; the guide writer turns them into "
            "a table.",
        ],
        [
            (
                "Glob",
                {"pattern": "docs/cli/*.md"},
                "docs/cli/index.md\ndocs/cli/configuration.md\ndocs/cli/output.md",
                None,
            ),
            (
                "Bash",
                {"command": "cli-v3 --version"},
                "cli 3.0.0",
                None,
            ),
        ],
        "## CLI v3 migration guide\n\n| removed in v3 | use instead |\n|---|---|\n"
        "| `--legacy-output` | `--format=v2` |\n| `--no-color` | `--color=never` |\n"
        "| `--config-dir DIR` | `--config FILE` |\n\nEvery example in the guide was run "
        "against v3.0.0.",
    ),
}
"""Per task (its index in TASKS): the coordinator's thinking, the look it takes before
handing the work out, and its final answer."""

LONG_MODULES = ["schemas", "refunds", "invoices", "customers", "shipping", "discounts", "audit"]
LONG_TASKS = [
    f"Next module of the pydantic v2 migration: `src/orders/{module}.py`. Keep its public JSON "
    "schema byte-for-byte identical."
    for module in LONG_MODULES
]
"""The long session's turns: the migration its title names, one module after another."""

LONG_HANDOFFS: dict[str, tuple[str, str]] = {
    "Migration Agent": (
        "Move `src/orders/{module}.py` from pydantic v1 to v2. Keep behaviour; report what you "
        "changed and the test result.",
        "Migrated `src/orders/{module}.py` to pydantic v2 (`model_config`, `field_validator`); "
        "`tests/orders` pass.",
    ),
    "Schema Checker": (
        "Compare the JSON schema of every model in `src/orders/{module}.py` before and after the "
        "migration and report any difference.",
        "Schema check for `{module}`: identical after sorting `required`; no other difference.",
    ),
}
"""In the long session, each child's task and report name the module of the turn."""


def coordinator_role(task: str) -> Role | None:
    """What the coordinator thinks, looks at and answers for a task (None: no script)."""
    if task in LONG_TASKS:
        return COORDINATOR[1]
    for index, (text, _helpers) in enumerate(TASKS):
        if text == task:
            return COORDINATOR.get(index)
    return SOLO.get(task)


SOLO: dict[str, Role] = {
    "Summarise the incidents of the last 7 days from the on-call log.": Role(
        [
            "The on-call log has one entry per page; grouping the pages by incident id gives "
            "the list, and the postmortems give the causes.",
        ],
        [
            (
                "Bash",
                {
                    "command": "oncall-log --since 7d --format json | jq 'group_by(.incident) | length'"
                },
                "4",
                "error: oncall-log: token expired (run `oncall-log login`)",
            ),
            (
                "Read",
                {"file_path": "postmortems/2026-11-24-payments-latency.md"},
                "# Payments latency, 24 Nov\n\nImpact: p95 of POST /refunds above 2 s for 38 min.",
                None,
            ),
            (
                "Grep",
                {"pattern": "SEV-[12]", "path": "postmortems/"},
                "postmortems/2026-11-24-payments-latency.md:3:Severity: SEV-2\n"
                "postmortems/2026-11-21-search-outage.md:3:Severity: SEV-1",
                None,
            ),
        ],
        "## Incidents, last 7 days\n\n| date | service | severity | cause |\n|---|---|---|---|\n"
        "| 21 Nov | search | SEV-1 | index rebuild locked `orders` |\n"
        "| 24 Nov | payments | SEV-2 | connection pool exhausted |\n"
        "| 25 Nov | webhooks | SEV-3 | retry storm after a deploy |\n"
        "| 26 Nov | auth | SEV-3 | expired signing key in staging |",
    ),
    "Rotate the staging database credentials and update the vault.": Role(
        [
            "Order matters: the new password goes into the database first, then the vault, "
            "then the services restart; the old one must work until they have.",
        ],
        [
            (
                "Bash",
                {"command": "vault kv get -field=username secret/staging/db"},
                "app_staging",
                None,
            ),
            (
                "Bash",
                {
                    "command": 'psql "$STAGING_ADMIN_URL" -c "ALTER ROLE app_staging PASSWORD :\'new\'"'
                },
                "ALTER ROLE",
                "psql: error: connection to server failed: FATAL:  password authentication failed",
            ),
            (
                "Bash",
                {"command": "vault kv put secret/staging/db password=@/run/new-password"},
                "Success! Data written to: secret/staging/db",
                None,
            ),
            (
                "Bash",
                {"command": "kubectl -n staging rollout restart deploy/api deploy/worker"},
                "deployment.apps/api restarted\ndeployment.apps/worker restarted",
                None,
            ),
        ],
        "Rotated the staging database password for `app_staging`: the database first, then "
        "`secret/staging/db` in the vault, then restarted `api` and `worker`, which came back "
        "healthy on the new credentials.",
    ),
    "Cut release 2.8.0 and deploy it to production.": Role(
        ["Check that 2.8.0 is tagged and its CHANGELOG section exists before anything is built."],
        [
            (
                "Bash",
                {"command": "git tag --list 'v2.8*'"},
                "v2.8.0-rc1\nv2.8.0-rc2\nv2.8.0",
                None,
            ),
            (
                "Read",
                {"file_path": "CHANGELOG.md"},
                "## [2.8.0] - 2026-11-27\n### Added\n- Partial refunds in the dashboard",
                None,
            ),
        ],
        "",
    ),
}
"""Sessions of one agent: their thinking, tool calls and answer, by the task they were given."""
