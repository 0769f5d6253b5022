"""Specimen IDs: short, typed by a scanner or read aloud, never mistaken for one another.

An ID is eight characters in two groups of four, e.g. "H7K2-9QXD", drawn with `secrets` from 30
characters that cannot be confused on a cup label or over the phone to a lab: the digits 2-9 and
the capital letters without I, L, O and U (Crockford's rule, less 0 and 1 as well). That is
30**8 (about 6.6 × 10**11) IDs: a facility that collects 100,000 specimens has about one chance
in 130 of ever drawing a taken one, and then the unique constraint refuses it and the service
draws again. Code 128 carries its own check character, so a scanner does not misread one.

Pure Python, no Django.
"""

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
GROUP = 4
GROUPS = 2
LENGTH = GROUP * GROUPS


def new_specimen_id() -> str:
    """A fresh random ID, "XXXX-XXXX"."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(chars[i : i + GROUP] for i in range(0, LENGTH, GROUP))


def normalize_specimen_id(text: str) -> str | None:
    """What a scanner or a person typed, as the stored ID; None if it cannot be one.

    Case, spaces and the hyphen are forgiven ("h7k2 9qxd", "H7K29QXD"); a character outside the
    alphabet is not guessed at (an O is not silently read as 0)."""
    chars = "".join(ch for ch in text.upper() if ch not in " -\t\r\n")
    if len(chars) != LENGTH or any(ch not in ALPHABET for ch in chars):
        return None
    return "-".join(chars[i : i + GROUP] for i in range(0, LENGTH, GROUP))
