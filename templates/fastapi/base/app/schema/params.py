"""Integers in the URL (ids, paging) have one spelling in every stack: decimal digits.

`1e3`, `0x1`, `1.0`, `+1` or ` 1` are refused with 422 like any other invalid value, instead of
being read as a number by one stack and refused by another.
"""

import re

from pydantic import BeforeValidator

# The largest Postgres `integer`: a larger id is a bad request, not a database error.
INT4_MAX = 2_147_483_647

_DECIMAL = re.compile(r"-?[0-9]+")


def _decimal(value: object) -> object:
    if isinstance(value, str) and not _DECIMAL.fullmatch(value):
        raise ValueError("must be a decimal integer")
    return value


Decimal = BeforeValidator(_decimal)
