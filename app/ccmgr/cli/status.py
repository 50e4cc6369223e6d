"""Exit codes of ccmgradm (as argparse and pip use them)."""

SUCCESS = 0
FAILED = 1
USAGE = 2
