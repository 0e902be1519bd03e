"""What a zygote's child has copied of its parent's memory, by kind of object (a diagnostic).

    sudo .venv/bin/python bench/memory_cow.py PARENT_PID CHILD_PID

A page the child wrote (copy-on-write) has another physical frame than the parent's
(/proc/<pid>/pagemap; the frame numbers need root). For each such page of the anonymous
mappings and the heap, the words that differ from the parent's are given to the object that holds
them: in a pymalloc pool (16 KiB, its size class in the pool header) by block, on the heap by
malloc chunk, named by the object's type (ob_type -> tp_name, read from the child's memory). A
page copied without a net difference was written and put back (a reference count up and down).

Prints one JSON object: copied MB per mapping kind, pages per kind of object written, the words
written per type and offset (offset 0 is the reference count; for code objects 48 holds
co_warmup and 184 on is the bytecode, both written by the adaptive interpreter), the source
files and functions of the code objects written, and the strings whose reference count changed.
Code pages are split in two: those holding the start of a code object written, which the child
copies whatever the parent ran before the fork (a call takes a reference to its code object:
the frame holds it, CPython 3.11), and those holding only bytecode of an object that starts on
an earlier page, the only ones a warm-up in the parent could keep shared. `code_objects_written_keys`
names every code object written by `glimpse.runtime.zygote.code_key` (bench/zygote_hot_code.py
makes the zygote's list of hot code from it). CPython 3.11 on x86-64, Linux only.
"""

from __future__ import annotations

import argparse
import bisect
import collections
import json
import struct
import sys
from pathlib import Path

sys.path[:] = [str(Path(__file__).resolve().parent.parent)] + sys.path
from glimpse.runtime.zygote import code_key  # noqa: E402

PAGE = 4096
POOL = 16384  # CPython 3.11's pymalloc pool (64-bit)
POOL_OVERHEAD = 48
CODE_FILENAME = 112  # PyCodeObject.co_filename in 3.11
CODE_QUALNAME = 128  # PyCodeObject.co_qualname in 3.11


class Process:
    def __init__(self, pid: int):
        self.pid = pid
        self.pagemap = open(f"/proc/{pid}/pagemap", "rb")  # noqa: SIM115 - read while the tool runs
        self.mem = open(f"/proc/{pid}/mem", "rb")  # noqa: SIM115

    def mappings(self) -> list[tuple[int, int, str]]:
        found = []
        with open(f"/proc/{self.pid}/maps") as f:
            for line in f:
                parts = line.split()
                start, end = (int(x, 16) for x in parts[0].split("-"))
                name = parts[5] if len(parts) > 5 else "[anon]"
                if parts[1].startswith("rw") and name in ("[anon]", "[heap]"):
                    found.append((start, end, name))
        return found

    def frame(self, address: int) -> int | None:
        self.pagemap.seek(address // PAGE * 8)
        entry = struct.unpack("<Q", self.pagemap.read(8))[0]
        return entry & ((1 << 55) - 1) if entry >> 63 else None

    def read(self, address: int, size: int) -> bytes:
        try:
            self.mem.seek(address)
            return self.mem.read(size)
        except (OSError, ValueError, OverflowError):
            return b""

    def word(self, address: int) -> int | None:
        data = self.read(address, 8)
        return struct.unpack("<Q", data)[0] if len(data) == 8 else None


class Names:
    """Type names and strings read from the child's memory."""

    def __init__(self, process: Process):
        self.process = process
        self.types: dict[int, str | None] = {}

    def type_name(self, address: int) -> str | None:
        if address not in self.types:
            name = None
            metatype = self.process.word(address + 8)
            base = self.process.word(metatype + 8) if metatype else None
            if base and self.process.word(base + 8) == base:  # the metatype's type is `type`
                pointer = self.process.word(address + 24)  # tp_name
                if pointer:
                    name = self.process.read(pointer, 80).split(b"\0")[0].decode(errors="replace")
            self.types[address] = name
        return self.types[address]

    def object_at(self, block: int) -> tuple[str, int] | None:
        """(type name, offset of ob_refcnt in the block) of a block holding an object, else None."""
        for header in (0, 16):  # a plain object, or one behind its 16-byte GC header
            kind = self.process.word(block + header + 8)
            if kind and (name := self.type_name(kind)):
                return name, header
        return None

    def string(self, address: int | None) -> str:
        data = self.process.read(address, 48 + 160) if address else b""
        if len(data) < 48:
            return "?"
        length = struct.unpack_from("<q", data, 16)[0]
        return data[48 : 48 + max(0, min(length, 160))].decode("latin-1")


def heap_chunks(process: Process) -> list[int]:
    starts = []
    for start, end, name in process.mappings():
        if name != "[heap]":
            continue
        data = process.read(start, end - start)
        chunk = start
        while chunk + 16 <= start + len(data):
            size = struct.unpack_from("<Q", data, chunk - start + 8)[0] & ~7
            if size < 32 or chunk + size > end:
                break
            starts.append(chunk)
            chunk += size
    return starts


def explain(parent_pid: int, child_pid: int) -> dict:
    parent, child = Process(parent_pid), Process(child_pid)
    names = Names(child)
    chunks = heap_chunks(child)
    in_parent = [(a, b) for a, b, _ in parent.mappings()]
    copied: collections.Counter[str] = collections.Counter()
    pages_by_kind: collections.Counter[str] = collections.Counter()
    words: collections.Counter[str] = collections.Counter()
    code_files: collections.Counter[str] = collections.Counter()
    code_pages: dict[str, set[int]] = collections.defaultdict(set)
    strings_held: collections.Counter[str] = collections.Counter()
    code_keys: set[str] = set()  # glimpse.runtime.zygote.code_key of each code object written
    code_head_pages: set[int] = set()  # pages holding the start of a code object written
    code_body_pages: set[int] = set()  # pages holding only bytecode of code objects that start before
    for start, end, mapping in child.mappings():
        if not any(a <= start < b for a, b in in_parent):
            continue  # mapped after the fork: new memory, not a copy
        for page in range(start, end, PAGE):
            ours, theirs = child.frame(page), parent.frame(page)
            if ours is None or theirs is None or ours == theirs:
                continue
            copied[mapping] += 1
            now, before = child.read(page, PAGE), parent.read(page, PAGE)
            if len(now) < PAGE or len(before) < PAGE:
                continue
            changed = [i for i in range(0, PAGE, 8) if now[i : i + 8] != before[i : i + 8]]
            kinds = set()
            pool = page & ~(POOL - 1)
            header = child.read(pool, POOL_OVERHEAD).ljust(POOL_OVERHEAD, b"\0")
            size_class, next_offset = struct.unpack_from("<II", header, 36)
            in_pool = mapping == "[anon]" and size_class < 32 and POOL_OVERHEAD <= next_offset <= POOL
            for i in changed:
                address = page + i
                if in_pool:
                    if address - pool < POOL_OVERHEAD:
                        key, found, block = "pool header", None, 0
                    else:
                        size = (size_class + 1) * 16
                        block = pool + POOL_OVERHEAD + (address - pool - POOL_OVERHEAD) // size * size
                        found = names.object_at(block)
                        key = f"block of {size} B"
                elif mapping == "[heap]":
                    j = bisect.bisect_right(chunks, address) - 1
                    block = chunks[j] + 16 if j >= 0 else 0
                    found = names.object_at(block) if block else None
                    key = "heap (no object header)"
                else:
                    key, found, block = f"{mapping} outside pools", None, 0
                if found:
                    name, gc_header = found
                    key = f"{name}@{address - block - gc_header}"
                    if name == "str" and address - block - gc_header == 0:
                        strings_held[names.string(block + gc_header)[:40]] += 1
                    if name == "code":
                        code = block + gc_header
                        where = names.string(child.word(code + CODE_FILENAME))
                        code_files[where] += 1
                        qualname = names.string(child.word(code + CODE_QUALNAME))
                        code_pages[f"{where.rsplit('/', 1)[-1]}:{qualname}"].add(page)
                        code_keys.add(code_key(where, qualname))
                        if code < page:  # the object's header (refcount, co_warmup) is on an earlier page
                            code_body_pages.add(page)
                        else:
                            code_head_pages.add(page)
                words[key] += 1
                kinds.add(key.split("@")[0])
            for kind in kinds or {"no net difference"}:
                pages_by_kind[kind] += 1
    return {
        "parent": parent_pid,
        "child": child_pid,
        "copied_mb": {k: round(v * PAGE / 2**20, 2) for k, v in copied.items()},
        "pages_by_kind_written": dict(pages_by_kind.most_common(30)),
        "words_written": dict(words.most_common(40)),
        "code_words_written_by_file": dict(code_files.most_common(30)),
        "code_objects_written": len(code_pages),
        "code_pages_with_a_header_written": len(code_head_pages),
        "code_pages_with_only_bytecode_written": len(code_body_pages - code_head_pages),
        "code_pages_by_file": _pages_by_file(code_pages),
        "strings_whose_count_changed": dict(strings_held.most_common(40)),
        "code_pages_by_function": {
            k: len(v) for k, v in sorted(code_pages.items(), key=lambda kv: -len(kv[1]))[:40]
        },
        "code_objects_written_keys": sorted(code_keys),
    }


def _pages_by_file(code_pages: dict[str, set[int]]) -> dict[str, int]:
    by_file: dict[str, set[int]] = collections.defaultdict(set)
    for key, pages in code_pages.items():
        by_file[key.split(":", 1)[0]] |= pages
    return {k: len(v) for k, v in sorted(by_file.items(), key=lambda kv: -len(kv[1]))[:30]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("parent", type=int)
    parser.add_argument("child", type=int)
    args = parser.parse_args(argv)
    print(json.dumps(explain(args.parent, args.child), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
