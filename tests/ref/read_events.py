#!/usr/bin/python3
"""Reads a TensorBoard event file with only the Python standard library (Debian has no
python3-tensorboard or python3-tensorflow) and prints its events as JSON, so the C++ tests can
compare what nn::SummaryWriter wrote with an independent decoder.

Usage: read_events.py EVENT_FILE  ->  stdout: [{"wall_time": .., "step": .., "file_version": ..,
                                               "values": [{"tag": .., "simple_value": ..}]}, ...]
Exits 1 with a message on stderr when the framing, a CRC or the protobuf is wrong.

Framing (TFRecord): uint64 length LE, uint32 masked crc32c(length bytes), payload,
uint32 masked crc32c(payload); mask(c) = ((c >> 15) | (c << 17)) + 0xa282ead8 (mod 2^32).
Payload: tensorflow.Event {double wall_time = 1; int64 step = 2; string file_version = 3;
Summary summary = 5}; Summary {repeated Value value = 1}; Value {string tag = 1;
float simple_value = 2}.
"""
import json
import struct
import sys


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def masked(crc):
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def varint(buf, pos):
    shift = value = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


def fields(buf):
    """Yields (field number, wire type, value) for each field of a protobuf message."""
    pos = 0
    while pos < len(buf):
        key, pos = varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            n, pos = varint(buf, pos)
            value, pos = buf[pos:pos + n], pos + n
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError("unsupported wire type %d" % wire)
        if pos > len(buf):
            raise ValueError("field %d runs past the end of its message" % field)
        yield field, wire, value


def decode_event(payload):
    event = {"values": []}
    for field, wire, value in fields(payload):
        if field == 1 and wire == 1:
            event["wall_time"] = struct.unpack("<d", value)[0]
        elif field == 2 and wire == 0:
            event["step"] = value - (1 << 64) if value >= 1 << 63 else value
        elif field == 3 and wire == 2:
            event["file_version"] = value.decode("utf-8")
        elif field == 5 and wire == 2:
            for f, w, v in fields(value):
                if f != 1 or w != 2:
                    continue
                entry = {}
                for vf, vw, vv in fields(v):
                    if vf == 1 and vw == 2:
                        entry["tag"] = vv.decode("utf-8")
                    elif vf == 2 and vw == 5:
                        entry["simple_value"] = struct.unpack("<f", vv)[0]
                event["values"].append(entry)
    return event


def read_events(path):
    with open(path, "rb") as f:
        data = f.read()
    pos, events = 0, []
    while pos < len(data):
        if pos + 12 > len(data):
            raise ValueError("truncated record header at byte %d" % pos)
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (len_crc,) = struct.unpack("<I", data[pos + 8:pos + 12])
        if masked(crc32c(header)) != len_crc:
            raise ValueError("length CRC mismatch at byte %d" % pos)
        start, end = pos + 12, pos + 12 + length
        if end + 4 > len(data):
            raise ValueError("truncated record at byte %d" % pos)
        payload = data[start:end]
        (data_crc,) = struct.unpack("<I", data[end:end + 4])
        if masked(crc32c(payload)) != data_crc:
            raise ValueError("payload CRC mismatch at byte %d" % pos)
        events.append(decode_event(payload))
        pos = end + 4
    return events


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: read_events.py EVENT_FILE\n")
        return 2
    try:
        events = read_events(sys.argv[1])
    except (OSError, ValueError, struct.error, UnicodeDecodeError) as e:
        sys.stderr.write("read_events.py: %s: %s\n" % (sys.argv[1], e))
        return 1
    json.dump(events, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
