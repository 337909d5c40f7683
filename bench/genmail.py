#!/usr/bin/env python3
"""Deterministic realistic mailbox for the POP3 benchmark.

Writes N messages into a Maildir's new/ folder: median about 8 KB, about 10% with a
100 KB - 2 MB (log-uniform) base64 attachment, multipart/alternative text+HTML bodies,
some RFC 2047 encoded subjects, and about a third of the headers in the forms real mailers
write (one character split between two encoded-words, ISO-2022-JP and GB18030, windows-1252
declared as ISO-8859-1, encoded-words inside quoted names, raw 8-bit text). CRLF line endings,
as POP3 serves them.
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


SUBJECTS = [
    ("utf-8", "Réunion de l'équipe: ordre du jour révisé"),
    ("utf-8", "Ваш заказ 7119 готов к выдаче"),
    ("utf-8", "Grüße aus Köln – Überweisung bestätigt"),
    ("utf-8", "お荷物のお届けについて"),
    ("iso-2022-jp", "会議の資料を送ります"),
    ("gb18030", "关于下周会议的通知"),
    ("windows-1252", "Offre spéciale – 5 € de réduction “aujourd’hui”"),
]


def encoded_words(data, charset, encoding, cut):
    """The bytes cut every `cut` bytes into encoded-words, wherever that falls (inside a
    character, as naive mailers do)."""
    words = []
    for at in range(0, len(data), cut):
        piece = data[at:at + cut]
        if encoding == "B":
            text = base64.b64encode(piece).decode()
        else:
            text = "".join(chr(b) if (48 <= b < 58 or 65 <= b < 91 or 97 <= b < 123) else
                           "_" if b == 32 else f"={b:02X}" for b in piece)
        words.append(f"=?{charset}?{encoding}?{text}?=")
    return "\r\n ".join(words)


def real_world_headers(i):
    """Subject and From in one of the forms real mailers send, or None for the plain ones.
    Its own random generator: the bodies (and so the benchmark's sizes) stay as they were."""
    hrng = random.Random(i)
    if hrng.random() >= 0.35:
        return None
    charset, text = hrng.choice(SUBJECTS)
    declared = "iso-8859-1" if charset == "windows-1252" else charset
    data = text.encode(charset)
    form = hrng.randrange(4)
    if form == 0:
        subject = encoded_words(data, declared, "Q", hrng.randint(7, 23))
    elif form == 1:
        subject = encoded_words(data, declared, "B", hrng.randint(7, 23))
    elif form == 2:
        subject = encoded_words(data, declared, hrng.choice("BQ"), len(data))
    else:
        subject = None
    name = hrng.choice(["Renée Dupont", "Jürgen Groß", "Дмитрий Иванов", "José García"])
    name_form = hrng.randrange(3)
    if name_form == 0:
        sender = f'"{encoded_words(name.encode(), "utf-8", "Q", 40)}" <sender{i % 97}@example.org>'
    elif name_form == 1:
        sender = f'{encoded_words(name.encode(), "utf-8", "B", hrng.randint(5, 9))} <sender{i % 97}@example.org>'
    else:
        sender = None
    return subject, sender


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
    sender = f"Sender {i % 97} <sender{i % 97}@example.org>"
    real = real_world_headers(i) if i % 7 else None
    if real:
        subject = real[0] or subject
        sender = real[1] or sender
    boundary_alt = f"alt-{i:06d}"
    headers = (f"Return-Path: <sender{i % 97}@example.org>\r\n"
               f"Received: from mx.example.org by pop.example.net; Mon, 1 Jan 2024 10:{i % 60:02d}:00 +0000\r\n"
               f"From: {sender}\r\n"
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
