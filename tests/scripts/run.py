#!/usr/bin/python3
"""Runs one test module of tests/scripts with unittest; prints 'N passed, N failed, N skipped'.
Exit 0 if nothing failed, 1 if something failed, 77 (ctest's SKIP_RETURN_CODE) if every test
was skipped (the reasons are printed)."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main():
    if len(sys.argv) != 2:
        print("usage: run.py MODULE", file=sys.stderr)
        return 2
    start = time.monotonic()
    suite = unittest.defaultTestLoader.loadTestsFromName(sys.argv[1])
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    # a skip in setUpClass is not a test that ran (an _ErrorHolder, not a TestCase)
    passed = result.testsRun - failed - sum(isinstance(t, unittest.TestCase) for t, _ in result.skipped)
    for test, reason in result.skipped:
        print(f"SKIP {test}: {reason}")
    print(f"({time.monotonic() - start:.1f} s)")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    if failed:
        return 1
    if skipped and passed == 0:
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
