#!/usr/bin/env python3
"""run.py - runs the black-box HTTP suite (every tests/http/test_*.py).

    run.py [--database-url URL] [-k PATTERN]... [TEST_NAME]...

The deployment comes from the environment that tests.cmake sets:
MSVC_DEPLOY (server | split), MSVC_RESOLVER (individual | batch | cached),
MSVC_SERVER_BIN, MSVC_AUTH_BIN, MSVC_POST_BIN; --database-url (or
MSVC_DATABASE_URL) points the stores at MongoDB instead of SQLite files in
each test's temporary directory.  TEST_NAMEs are unittest names such as
test_posts.Listing; -k selects test methods by substring, like unittest's.

Exit codes: 0 all passed, 1 something failed, 77 the executables this
deployment needs are not built (ctest shows a skip; with CI=true that is a
failure instead).  A test skipped for a missing tool or executable
(harness.skip_missing) is listed at the end, and fails the run under
CI=true; a test that does not apply to the deployment is just skipped.
"""

import argparse
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--database-url", help="MongoDB URL for the stores")
    ap.add_argument("-k", action="append", default=[],
                    help="only test methods matching this pattern")
    ap.add_argument("-q", action="store_true", help="less output")
    ap.add_argument("--mutate", metavar="NAME",
                    help="corrupt every answer (a check that the suite "
                    "notices; see harness.MUTATIONS)")
    ap.add_argument("tests", nargs="*", help="unittest names")
    args = ap.parse_args()
    if args.database_url:
        os.environ["MSVC_DATABASE_URL"] = args.database_url
    if args.mutate:
        os.environ["MSVC_HTTP_MUTATE"] = args.mutate

    sys.path.insert(0, HERE)
    import harness  # reads the environment set above

    missing = harness.missing_binaries()
    if missing:
        why = ("executables not built for MSVC_DEPLOY=%s: %s"
               % (harness.DEPLOY, ", ".join(missing)))
        if os.environ.get("CI") == "true":
            print("run.py: FAILED: " + why, file=sys.stderr)
            return 1
        print("run.py: SKIPPED: " + why, file=sys.stderr)
        return 77

    print("run.py: MSVC_DEPLOY=%s MSVC_RESOLVER=%s store=%s"
          % (harness.DEPLOY, harness.RESOLVER,
             harness.DATABASE_URL or "sqlite (per test)"), file=sys.stderr)
    loader = unittest.TestLoader()
    if args.k:
        loader.testNamePatterns = ["*%s*" % k for k in args.k]
    if args.tests:
        suite = loader.loadTestsFromNames(args.tests)
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    runner = unittest.TextTestRunner(verbosity=1 if args.q else 2)
    result = runner.run(suite)
    print("run.py: %d responses checked against the contract's universal "
          "rules" % harness.stats["responses_checked"], file=sys.stderr)
    return harness.finish(result, "run.py")


if __name__ == "__main__":
    sys.exit(main())
