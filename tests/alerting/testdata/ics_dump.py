#!/usr/bin/python3
"""Parses an .ics file with Python's icalendar (Debian's python3-icalendar) and prints what it
read, for tests/alerting/icalendar_test.cc: one line "calendar<TAB><X-WR-CALNAME>", then per
VEVENT "event<TAB>uid<TAB>dtstart unix seconds<TAB>dtend unix seconds<TAB>summary<TAB>description"
with the text values unescaped by the parser and then re-escaped as JSON strings (so a newline or
a tab in them stays on one line). Exits 1 when the file does not parse.

Usage: ics_dump.py FILE
"""
import json
import sys

import icalendar


def main():
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    cal = icalendar.Calendar.from_ical(data)
    print("calendar\t" + json.dumps(str(cal.get("X-WR-CALNAME", "")), ensure_ascii=False))
    for ev in cal.walk("VEVENT"):
        start = ev["DTSTART"].dt
        end = ev["DTEND"].dt
        if start.tzinfo is None or start.utcoffset().total_seconds() != 0:
            raise SystemExit("DTSTART is not UTC: %r" % (start,))
        stamp = ev["DTSTAMP"].dt
        print("\t".join([
            "event",
            json.dumps(str(ev["UID"]), ensure_ascii=False),
            str(int(start.timestamp())),
            str(int(end.timestamp())),
            json.dumps(str(ev["SUMMARY"]), ensure_ascii=False),
            json.dumps(str(ev.get("DESCRIPTION", "")), ensure_ascii=False),
            str(int(stamp.timestamp())),
        ]))


if __name__ == "__main__":
    main()
