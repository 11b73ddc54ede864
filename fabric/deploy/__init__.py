"""Safe deploy: diff, push, verify, roll back (fabric deploy)."""
