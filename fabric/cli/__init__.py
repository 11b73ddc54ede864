"""The thin command-line layer: each command calls library functions and maps results to exit codes."""
