#!/usr/bin/env python3
"""How Python's `email.header` reads the Subject and the sender's name of every message in a
Maildir's new/ folder: one JSON line per file, {"file", "subject", "from_name"} (null where
Python cannot decode). The header-decoding test compares Tributary's reading with it.
Usage: header_oracle.py MAILDIR
"""
import email
import email.utils
import json
import os
import sys
from email.header import decode_header, make_header


def decoded(value):
    if value is None:
        return None
    try:
        return str(make_header(decode_header(value)))
    except Exception:
        return None


def main():
    new = os.path.join(sys.argv[1], "new")
    for name in sorted(os.listdir(new)):
        with open(os.path.join(new, name), "rb") as f:
            message = email.message_from_bytes(f.read())
        sender_name, _ = email.utils.parseaddr(str(message.get("From", "")))
        print(json.dumps({
            "file": name,
            "subject": decoded(message.get("Subject")),
            "from_name": decoded(sender_name) if sender_name else None,
        }, ensure_ascii=False))


if __name__ == "__main__":
    main()
