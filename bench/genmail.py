#!/usr/bin/env python3
"""Deterministic realistic mailbox for the POP3 benchmark.

Writes N messages into a Maildir's new/ folder: median about 8 KB, about 10% with a
100 KB - 2 MB (log-uniform) base64 attachment, multipart/alternative text+HTML bodies,
some RFC 2047 encoded subjects. CRLF line endings, as POP3 serves them.
Usage: genmail.py MAILDIR [COUNT]
"""
import base64
import math
import os
import random
import sys

WORDS = ("mail server inbox account message weekly report meeting notes invoice project "
         "update family photos holiday travel schedule budget review draft final please "
         "thanks regards tomorrow morning evening question answer attached document").split()


def paragraph(rng, words):
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def wrap(text, width=72):
    out, line = [], ""
    for word in text.split(" "):
        if len(line) + len(word) + 1 > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    out.append(line)
    return out


def message(i, rng):
    target = int(rng.lognormvariate(math.log(6500), 0.6))
    text_lines = []
    while sum(len(l) + 2 for l in text_lines) < target:
        text_lines += wrap(paragraph(rng, rng.randint(20, 80))) + [""]
    if rng.random() < 0.02:
        text_lines.append(".a line that starts with a dot")
    text = "\r\n".join(text_lines)
    html = "<html><body>" + "".join(f"<p>{l}</p>" for l in text_lines if l) + "</body></html>"
    if i % 7 == 0:
        subject = "=?UTF-8?B?" + base64.b64encode(f"Grüße aus Köln #{i} – {rng.choice(WORDS)}".encode()).decode() + "?="
    else:
        subject = f"{paragraph(rng, rng.randint(3, 8))[:-1]} #{i}"
    boundary_alt = f"alt-{i:06d}"
    headers = (f"Return-Path: <sender{i % 97}@example.org>\r\n"
               f"Received: from mx.example.org by pop.example.net; Mon, 1 Jan 2024 10:{i % 60:02d}:00 +0000\r\n"
               f"From: Sender {i % 97} <sender{i % 97}@example.org>\r\n"
               f"To: Bench User <bench@example.net>\r\n"
               f"Subject: {subject}\r\n"
               f"Date: Mon, 1 Jan 2024 10:{i % 60:02d}:{i % 59:02d} +0000\r\n"
               f"Message-ID: <bench-{i}@example.org>\r\n"
               f"MIME-Version: 1.0\r\n")
    alternative = (f"--{boundary_alt}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
                   f"--{boundary_alt}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n"
                   f"--{boundary_alt}--\r\n")
    if rng.random() < 0.10:
        size = int(math.exp(rng.uniform(math.log(100_000), math.log(2_000_000))))
        data = base64.encodebytes(rng.randbytes(size * 3 // 4)).decode().replace("\n", "\r\n")
        mixed = f"mix-{i:06d}"
        return (headers + f"Content-Type: multipart/mixed; boundary=\"{mixed}\"\r\n\r\n"
                f"--{mixed}\r\nContent-Type: multipart/alternative; boundary=\"{boundary_alt}\"\r\n\r\n{alternative}"
                f"--{mixed}\r\nContent-Type: application/octet-stream; name=\"file{i}.bin\"\r\n"
                f"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"file{i}.bin\"\r\n\r\n"
                f"{data}--{mixed}--\r\n").encode()
    return (headers + f"Content-Type: multipart/alternative; boundary=\"{boundary_alt}\"\r\n\r\n{alternative}").encode()


def main():
    maildir = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    rng = random.Random(20261127)
    os.makedirs(os.path.join(maildir, "new"), exist_ok=True)
    for sub in ("cur", "tmp"):
        os.makedirs(os.path.join(maildir, sub), exist_ok=True)
    total = 0
    for i in range(count):
        body = message(i, rng)
        total += len(body)
        with open(os.path.join(maildir, "new", f"{1700000000 + i}.M{i}P1.bench"), "wb") as f:
            f.write(body)
    print(f"{count} messages, {total} bytes")


if __name__ == "__main__":
    main()
