#!/usr/bin/env python3
"""run.py - runs the black-box HTTP suite (every tests/http/test_*.py).

    run.py [--database-url URL] [-k PATTERN]... [TEST_NAME]...
    run.py --mutate NAME [TEST_NAME]...

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

--mutate NAME checks the suite itself: every answer is corrupted as
harness.MUTATIONS[NAME] says, the tests MUTATION_CHECKS names for it run,
and the exit status is 0 only if one of their checks failed (ctest
http.mutate.<name>).
"""

import argparse
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))

# The suite's self-check, run by ctest as http.mutate.<name>: for each of
# harness.MUTATIONS, the deployment and the few tests whose checks must
# notice it (one test each keeps the whole table well under a minute).
MUTATION_CHECKS = {
    "status_201_as_200": ("server", [
        "test_auth.Register.test_register_answers_201_with_the_user"]),
    "no_allow_header": ("server", [
        "test_service.ServiceRoutes.test_wrong_methods_are_405_with_allow"]),
    "no_retry_after": ("server", [
        "test_throttle.Throttle.test_repeated_failures_are_throttled"]),
    "no_warning_header": ("split", [
        "test_split.SplitFaults.test_both_auth_down_then_back"]),
    "hash_in_user": ("server", [
        "test_auth.Register.test_register_answers_201_with_the_user"]),
    "extra_field": ("server", [
        "test_auth.Register.test_register_answers_201_with_the_user"]),
    "error_message": ("server", [
        "test_auth.Login.test_wrong_password_and_unknown_email_answer_alike"]),
    "no_degraded": ("split", [
        "test_split.SplitFaults.test_both_auth_down_then_back"]),
    "timestamps_without_ms": ("server", [
        "test_auth.Register.test_register_answers_201_with_the_user"]),
    "posts_oldest_first": ("server", [
        "test_posts.Listing.test_newest_first_with_authors"]),
    "errors_dropped": ("server", [
        "test_auth.Register.test_every_offending_field_is_named_at_once"]),
    "404_as_400": ("server", [
        "test_service.ServiceRoutes.test_unknown_routes_are_404"]),
}


class Result(unittest.TextTestResult):
    """Also counts the errors that are failed assertions (in a class's
    set-up, say) apart from crashes, for the mutation self-check."""
    assertion_errors = 0

    def addError(self, test, err):
        import harness
        if issubclass(err[0], AssertionError) and \
                not issubclass(err[0], harness.ProcError):
            self.assertion_errors += 1
        super().addError(test, err)


def mutation_verdict(result, name):
    """0 when the run under mutation `name` failed on a check (the suite
    noticed), 1 otherwise: all passed, or only crashes (a server that did
    not start proves nothing about the checks)."""
    if result.failures or result.assertion_errors:
        print("run.py: mutation %s noticed: %d failed check(s)"
              % (name, len(result.failures) + result.assertion_errors),
              file=sys.stderr)
        return 0
    print("run.py: FAILED: mutation %s went unnoticed: no check failed"
          % name, file=sys.stderr)
    return 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--database-url", help="MongoDB URL for the stores")
    ap.add_argument("-k", action="append", default=[],
                    help="only test methods matching this pattern")
    ap.add_argument("-q", action="store_true", help="less output")
    ap.add_argument("--mutate", metavar="NAME",
                    help="corrupt every answer the way harness.MUTATIONS "
                    "NAME says, run the tests of MUTATION_CHECKS (unless "
                    "TEST_NAMEs are given) and exit 0 only if a check "
                    "failed")
    ap.add_argument("--list-mutations", action="store_true",
                    help="print the mutation names, for tests.cmake")
    ap.add_argument("tests", nargs="*", help="unittest names")
    args = ap.parse_args()
    sys.path.insert(0, HERE)
    if args.list_mutations:
        import harness
        print(";".join(sorted(harness.MUTATIONS)))
        return 0
    if args.database_url:
        os.environ["MSVC_DATABASE_URL"] = args.database_url
    if args.mutate:
        os.environ["MSVC_HTTP_MUTATE"] = args.mutate
        if not args.tests:
            if args.mutate not in MUTATION_CHECKS:
                print("run.py: FAILED: mutation %s has no tests in "
                      "MUTATION_CHECKS" % args.mutate, file=sys.stderr)
                return 1
            os.environ["MSVC_DEPLOY"], args.tests = \
                MUTATION_CHECKS[args.mutate]

    import harness  # reads the environment set above
    if args.mutate and args.mutate not in harness.MUTATIONS:
        print("run.py: unknown mutation %s" % args.mutate, file=sys.stderr)
        return 2

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
    runner = unittest.TextTestRunner(verbosity=1 if args.q else 2,
                                     resultclass=Result)
    result = runner.run(suite)
    print("run.py: %d responses checked against the contract's universal "
          "rules" % harness.stats["responses_checked"], file=sys.stderr)
    if args.mutate:
        return mutation_verdict(result, args.mutate)
    return harness.finish(result, "run.py")


if __name__ == "__main__":
    sys.exit(main())
