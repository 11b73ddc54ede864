"""Fabric-wide inventory rules, one module per concern; each rule is ``rule(fabric) -> Iterable[Problem]``."""
