"""Bastion's log template miner: Drain's fixed-depth grouping with generic variable masking.

The algorithm follows Drain (He et al., ICWS 2017; the drain3 package is the reference):
lines are split into tokens, grouped by token count and leading constant token, and a line
joins the most similar template of its group when enough positions agree; positions that
disagree become wildcards. Three generic changes make it more accurate than plain Drain on
logs nobody tuned it for, with one configuration:

* tokens that carry a number (decimal, hex, IPs, ids, paths with digits, ``key=value``
  values with digits) are masked before grouping, so they never split a template;
* the leading constant token is part of the group key only when it looks like a word;
* after a line is matched, a template that becomes identical to another one in the same
  group is merged into it (its id is kept as an alias), so early splits heal themselves;
* a line no template takes may still be *near* one (:mod:`near`): equal at every constant of a
  template that is mostly wildcards (it joins), or different at exactly one position; once
  otherwise identical templates held more distinct words at that position than a threshold
  (``max_values`` for the leading word, ``sibling_values`` elsewhere), the position is a
  parameter and they merge. This is what makes short messages (``Cache miss <key>``) and
  messages led by a program name (``chrome.exe ...``) one event each, where Drain splits them.

Speed: a line is masked through its "shape" (numbers cut down by one C-level substitution),
so the per-token work runs once per shape; known masked lines are found by one dict lookup;
similarity counts equal constants in C over a per-template probe.

The state is plain data and is saved as versioned JSON (:meth:`TemplateMiner.to_dict`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from operator import eq
from pathlib import Path
from typing import Any

from bastion.atomic import atomic_open
from bastion.detect.logs.masking import (
    WILDCARD,
    clear_caches,
    mask_key,
    mask_line,
    tokenize,
)
from bastion.detect.logs.near import NearIndex, Relation, nearest, relation
from bastion.detect.logs.render import render as _render
from bastion.detect.logs.template import RAW_SAMPLE, Template
from bastion.errors import InputError

__all__ = [
    "STATE_VERSION",
    "WILDCARD",
    "Template",
    "TemplateMiner",
    "clear_caches",
    "event_text",
    "mask_key",
    "mask_line",
    "tokenize",
]

STATE_VERSION = 1
"""Version of the JSON state written by :meth:`TemplateMiner.to_dict`."""


MAX_SAME_TAIL = 64
"""Templates remembered per masked tail for the sibling search (bounded work per new template)."""


def _group_key(tokens: Sequence[str]) -> tuple[int, str]:
    first = tokens[0] if tokens else ""
    if first == WILDCARD or not first[:1].isalpha():
        first = WILDCARD
    return len(tokens), first


def _probe(template: Sequence[str]) -> tuple[list[str | None], int]:
    """A template's tokens with None at its wildcards (None equals no token), and its wildcard count.

    ``sum(map(eq, probe, tokens))`` then counts the equal constant tokens in C, which is what
    Drain's similarity needs; the miner keeps one probe per template until its tokens change.
    """
    probe: list[str | None] = [None if t == WILDCARD else t for t in template]
    return probe, probe.count(None)


def _both_wild(probe_token: str | None, token: str) -> bool:
    return probe_token is None and token == WILDCARD


class TemplateMiner:
    """Online template miner; feed lines with :meth:`add`, look up with :meth:`match`."""

    def __init__(
        self,
        similarity: float = 0.7,
        max_examples: int = 3,
        max_values: int = 3,
        evidence: int = 4,
        sibling_values: int = 6,
    ) -> None:
        """``similarity``: share of equal tokens a line needs to join a template (0..1).

        ``max_values``: a wildcard position that only ever held this many distinct words
        (``startup``/``shutdown``, ``password``/``none``) still tells events apart.

        ``sibling_values``: a position other than the first where otherwise identical templates
        took more than this many distinct words is a parameter (:mod:`near`; 0: never); the
        leading position uses ``max_values``, as inside one template.

        ``evidence``: a masked position (a token with a digit) whose raw text was the same on
        this many observed lines of a template is shown as text in the template (``ssh2``).
        """
        if not 0.0 < similarity <= 1.0:
            raise ValueError("similarity must be in (0, 1]")
        self.similarity = similarity
        self.max_examples = max_examples
        self.max_values = max_values
        self.evidence = evidence
        self.sibling_values = sibling_values
        self.templates: dict[int, Template] = {}
        self.aliases: dict[int, int] = {}
        self._groups: dict[tuple[int, str], list[int]] = {}
        self._exact: dict[tuple[str, ...], int] = {}
        self._variants: dict[tuple[int, tuple[str, ...]], int] = {}
        self._near = NearIndex()
        self._led: dict[int, list[int]] = {}
        """Per token count: templates whose leading word became a wildcard (siblings merged)."""
        self._tails: dict[tuple[str, ...], list[int]] = {}
        """Masked tokens but the first -> templates first mined from such a line (sibling search)."""
        self._next_id = 1
        self._probes: dict[int, tuple[list[str | None], int]] = {}
        """Per template id: :func:`_probe` of its tokens (dropped when they change)."""

    # -- mining ---------------------------------------------------------------------------
    def add(self, line: str) -> Template:
        """Mine one log message (without its header) and return the template it belongs to."""
        return self._add_key(mask_key(line), line)

    def add_tokens(self, tokens: Sequence[str], line: str) -> Template:
        """Mine one line already split by :func:`mask_line` (or :func:`mask_key`)."""
        return self._add_key(tokens if type(tokens) is tuple else tuple(tokens), line)

    def _add_key(self, key: tuple[str, ...], line: str) -> Template:
        tid = self._exact.get(key)
        if tid is None:
            return self._add_new(key, line)
        aliases = self.aliases
        while tid in aliases:
            tid = aliases[tid]
        hit = self.templates[tid]
        hit.count += 1
        if hit.seen < RAW_SAMPLE:
            hit.pending.append(line)
            hit.seen += 1
        return hit

    def _add_new(self, tokens: tuple[str, ...], line: str) -> Template:
        """Mine a line whose masked tokens were never seen: join the best template or start one."""
        own: list[int] = []
        template = self._best(tokens, own)
        relations: list[Relation] = []
        if template is None:
            found = nearest(tokens, self._candidates(tokens, own))
            if found and found[0].position < 0:
                template = self.templates[found[0].template]
                if template.tokens[0] == WILDCARD and tokens[0] != WILDCARD:
                    self._lead(template)  # a word-led line joined it: lookups must find it there
            for near in found if template is None else ():
                other, p = self.templates[near.template], near.position
                limit = self.max_values if p == 0 else self.sibling_values
                if limit <= 0:
                    continue
                key = relation(other.tokens, p)
                self._near.record(key, other.id, other.tokens[p])
                if self._near.record(key, None, tokens[p]) > limit:
                    template = self._generalize(key)
                    break
                relations.append(key)
        if template is None:
            template = Template(self._next_id, list(tokens), evidence=self.evidence)
            template.variable = {i for i, t in enumerate(tokens) if t == WILDCARD}
            self._next_id += 1
            self.templates[template.id] = template
            self._group_add(_group_key(tokens), template.id)
            if len(self._tails) < 200_000:
                same_tail = self._tails.setdefault(tokens[1:], [])
                if len(same_tail) < MAX_SAME_TAIL:
                    same_tail.append(template.id)
            for key in relations:
                self._near.record(key, template.id, tokens[key[0]])
        else:
            changed = False
            for i, (a, b) in enumerate(zip(template.tokens, tokens, strict=True)):
                if a != b and a != WILDCARD:
                    template.tokens[i] = WILDCARD
                    template.forget(i)
                    template.slots[i] = [a]
                    changed = True
            template.observe(tokens, self.max_values)
            if changed:
                self._probes.pop(template.id, None)
                template = self._merge_duplicates(template)
        template.count += 1
        if template.seen < RAW_SAMPLE:
            template.see(line)
        if len(template.examples) < self.max_examples:
            template.examples.append(line[:500])
        if len(self._exact) < 200_000:
            self._exact[tokens] = template.id
        return template

    def _best(self, tokens: Sequence[str], near: list[int] | None = None) -> Template | None:
        """The most similar template of the line's group (most equal tokens, then most wildcards).

        ``near`` collects the group's templates the line differs from at one constant at most
        (with two equal), the only ones of the group :func:`nearest` can pick."""
        ids = self._groups.get(_group_key(tokens))
        if not ids:
            return None
        if near is None:
            near = []
        n = len(tokens)
        templates, probes, threshold = self.templates, self._probes, self.similarity
        line_wild = WILDCARD in tokens
        best = -1
        best_sim, best_wild = -1.0, -1
        for tid in ids:
            found = probes.get(tid)
            if found is None:
                found = probes[tid] = _probe(templates[tid].tokens)
            probe, wild = found
            # Positions masked in the line and wild in the template are values on both sides:
            # they say nothing about whether the line is this event, so they are not counted.
            both = sum(map(_both_wild, probe, tokens)) if line_wild else 0
            equal = sum(map(eq, probe, tokens))
            sim = equal / (n - both) if n > both else 1.0
            if sim >= threshold and (sim > best_sim or (sim == best_sim and wild > best_wild)):
                best, best_sim, best_wild = tid, sim, wild
            elif equal >= 2 and n - wild - equal <= 1:  # may be near (:mod:`near`): kept for later
                near.append(tid)
        return templates[best] if best >= 0 else None

    def _group_add(self, key: tuple[int, str], tid: int) -> None:
        self._groups.setdefault(key, []).append(tid)

    def _candidates(
        self, tokens: tuple[str, ...], ids: list[int]
    ) -> list[tuple[int, tuple[list[str | None], int]]]:
        """Templates that may be near the line, with their probes: ``ids`` (from its own group,
        found by :meth:`_best`), those first mined from a line with the same masked tail (every
        token but the first: they may sit under another leading word), and those whose leading
        token is a wildcard."""
        templates, probes = self.templates, self._probes
        n, own = len(tokens), _group_key(tokens)
        tail = self._tails.get(tokens[1:])
        wild = self._led.get(n) if own[1] != WILDCARD else None
        if tail or wild:
            more = [self.resolve(t) for t in (*(tail or ()), *(wild or ()))]
            ids = list(dict.fromkeys([*ids, *more]))
        out = []
        for tid in ids:
            template = templates.get(tid)
            if template is None or len(template.tokens) != n:
                continue
            found = probes.get(tid)
            if found is None:
                found = probes[tid] = _probe(template.tokens)
            out.append((tid, found))
        return out

    def _generalize(self, key: Relation) -> Template:
        """Merge the templates of a relation whose position proved a parameter into the oldest."""
        position = key[0]
        members = [self.templates[tid] for tid in {self.resolve(t) for t in self._near.take(key)}
                   if tid in self.templates]  # fmt: skip
        members = [t for t in members if len(t.tokens) == len(key[1])]
        keep = min(members, key=lambda t: t.id)
        self._retoken(keep, {position})
        for other in members:
            if other is not keep:
                differ = {i for i, (a, b) in enumerate(zip(keep.tokens, other.tokens, strict=True)) if a != b}
                self._retoken(keep, differ)
                self._absorb(keep, other)
        return self._merge_duplicates(keep)

    def _retoken(self, template: Template, positions: set[int]) -> None:
        """Turn ``positions`` of ``template`` into variable wildcards (regrouping it if needed)."""
        if not positions:
            return
        old = _group_key(template.tokens)
        for i in positions:
            template.tokens[i] = WILDCARD
            template.forget(i)
            template.variable.add(i)
            template.slots.pop(i, None)
        self._probes.pop(template.id, None)
        new = _group_key(template.tokens)
        if new != old:
            self._groups[old].remove(template.id)
            self._group_add(new, template.id)
            self._lead(template)

    def _lead(self, template: Template) -> None:
        """Remember a wildcard-led template that word-led lines belong to (see :meth:`match_tokens`)."""
        led = self._led.setdefault(len(template.tokens), [])
        if template.id not in led:
            led.append(template.id)

    def _absorb(self, keep: Template, drop: Template) -> None:
        """Fold ``drop`` (same tokens as ``keep`` by now, or a sibling) into ``keep``; alias its id."""
        keep.count += drop.count
        keep.variable |= drop.variable
        for i, values in drop.slots.items():
            merged = keep.slots.setdefault(i, [])
            merged.extend(v for v in values if v not in merged)
        for i in list(keep.slots):
            if i in keep.variable or len(keep.slots[i]) > self.max_values:
                keep.variable.add(i)
                del keep.slots[i]
        keep.examples = (keep.examples + drop.examples)[: self.max_examples]
        keep_raw, drop_raw = keep.fold(), drop.fold()
        if not keep_raw:
            keep.raw = drop_raw
        elif drop_raw and len(drop_raw) == len(keep_raw):
            keep.raw = [a if a == b else None for a, b in zip(keep_raw, drop_raw, strict=True)]
        keep.seen = min(RAW_SAMPLE, keep.seen + drop.seen)
        self._groups[_group_key(drop.tokens)].remove(drop.id)
        if drop.id in self._led.get(len(drop.tokens), ()):
            self._lead(keep)
        del self.templates[drop.id]
        self._probes.pop(drop.id, None)
        self.aliases[drop.id] = keep.id

    def _merge_duplicates(self, template: Template) -> Template:
        key = _group_key(template.tokens)
        for tid in self._groups[key]:
            other = self.templates[tid]
            if tid != template.id and other.tokens == template.tokens:
                keep, drop = (other, template) if other.id < template.id else (template, other)
                self._absorb(keep, drop)
                return keep
        return template

    # -- lookup ---------------------------------------------------------------------------
    def resolve(self, tid: int) -> int:
        """The current id of a template id that may have been merged into another one."""
        while tid in self.aliases:
            tid = self.aliases[tid]
        return tid

    def match(self, line: str) -> Template | None:
        """The template ``line`` belongs to without learning from it, or None when unseen."""
        return self.match_tokens(mask_key(line))

    def match_tokens(self, tokens: Sequence[str]) -> Template | None:
        """:meth:`match` for a line already split by :func:`mask_line`."""
        tid = self._exact.get(tokens if type(tokens) is tuple else tuple(tokens))
        if tid is not None:
            return self.templates[self.resolve(tid)]
        key = _group_key(tokens)
        n = len(tokens)
        led = self._led.get(n, ()) if key[1] != WILDCARD else ()
        for ids in (self._groups.get(key, ()), led):
            for tid in ids:
                tid = self.resolve(tid)
                if tid not in self.templates:
                    continue
                found = self._probes.get(tid)
                if found is None:
                    found = self._probes[tid] = _probe(self.templates[tid].tokens)
                probe, wild = found
                if sum(map(eq, probe, tokens)) == n - wild:  # every constant token is equal
                    return self.templates[tid]
        return None

    def add_all(self, lines: Iterable[str]) -> list[int]:
        """Mine every line; return each line's final event id (after merges and refinement)."""
        exact, aliases, templates = self._exact, self.aliases, self.templates
        add_new, mask = self._add_new, mask_key
        tids: list[int] = []
        keys: list[tuple[str, ...]] = []
        push_tid, push_key = tids.append, keys.append
        for line in lines:  # :meth:`add`, inlined for the common case of a known masked line
            key = mask(line)
            tid = exact.get(key)
            if tid is None:
                tid = add_new(key, line).id
            else:
                while tid in aliases:
                    tid = aliases[tid]
                hit = templates[tid]
                hit.count += 1
                if hit.seen < RAW_SAMPLE:  # Template.see, inlined
                    hit.pending.append(line)
                    hit.seen += 1
            push_tid(tid)
            push_key(key)
        # Second pass (the templates are final now): :meth:`event_id` for each line, with each
        # mined id resolved, and its template's low-cardinality positions sorted, only once.
        final = {tid: templates[self.resolve(tid)] for tid in set(tids)}
        ids = {tid: template.id for tid, template in final.items()}
        where = {tid: sorted(template.slots) for tid, template in final.items() if template.slots}
        if not where:
            return [ids[tid] for tid in tids]
        variants = self._variants
        out: list[int] = []
        push = out.append
        for tid, key in zip(tids, keys, strict=True):
            positions = where.get(tid)
            if positions is None:
                push(ids[tid])
                continue
            variant = (ids[tid], tuple([key[i] for i in positions]))
            vid = variants.get(variant)
            if vid is None:
                vid = variants[variant] = self._next_id
                self._next_id += 1
            push(vid)
        return out

    def event_id(self, template: Template, tokens: Sequence[str], new: bool = True) -> int:
        """The event id of a line: its template's id, or a variant's when low-cardinality
        positions tell events apart. With ``new`` False an unknown variant gets -1 (unseen)
        instead of a new id, so detection never grows the miner."""
        values = template.refined(tokens)
        if not values:
            return template.id
        key = (template.id, values)
        vid = self._variants.get(key)
        if vid is None:
            if not new:
                return -1
            vid = self._variants[key] = self._next_id
            self._next_id += 1
        return vid

    # -- persistence ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON state: version, settings, templates and aliases."""
        return {
            "format": "bastion-template-miner",
            "version": STATE_VERSION,
            "similarity": self.similarity,
            "next_id": self._next_id,
            "templates": [
                {
                    "id": t.id,
                    "tokens": t.tokens,
                    "count": t.count,
                    "examples": t.examples,
                    "slots": {str(i): v for i, v in t.slots.items()},
                    "variable": sorted(t.variable),
                    "raw": t.fold(),
                    "seen": t.seen,
                }
                for t in sorted(self.templates.values(), key=lambda t: t.id)
            ],
            "variants": [[tid, list(values), vid] for (tid, values), vid in self._variants.items()],
            "max_values": self.max_values,
            "evidence": self.evidence,
            "sibling_values": self.sibling_values,
            "aliases": {str(k): v for k, v in self.aliases.items()},
            "near": self._near.to_list(),
            "led": sorted({t for ids in self._led.values() for t in ids if t in self.templates}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "miner state") -> TemplateMiner:
        """Rebuild a miner from :meth:`to_dict` output; InputError when the format is wrong."""
        if data.get("format") != "bastion-template-miner":
            raise InputError(f"{source}: not a Bastion template-miner state")
        version = data.get("version")
        if version != STATE_VERSION:
            raise InputError(
                f"{source}: template state version {version!r} is not supported "
                f"(this Bastion reads version {STATE_VERSION}); mine the templates again"
            )
        try:
            miner = cls(
                similarity=float(data["similarity"]),
                max_values=int(data["max_values"]),
                evidence=int(data.get("evidence", 4)),
                sibling_values=int(data.get("sibling_values", 6)),
            )
            for item in data["templates"]:
                tokens = [str(t) for t in item["tokens"]]
                template = Template(int(item["id"]), tokens, int(item["count"]), list(item["examples"]))
                template.slots = {int(i): [str(v) for v in vs] for i, vs in item["slots"].items()}
                template.variable = {int(i) for i in item["variable"]}
                raw = item.get("raw") or []
                if len(raw) == len(tokens):
                    template.raw = [None if v is None else str(v) for v in raw]
                    template.seen = int(item.get("seen", 0))
                template.evidence = miner.evidence
                miner.templates[template.id] = template
                miner._group_add(_group_key(tokens), template.id)
                miner._tails.setdefault(tuple(tokens[1:]), []).append(template.id)
            for tid in data.get("led", []):
                if int(tid) in miner.templates:
                    miner._lead(miner.templates[int(tid)])
            miner.aliases = {int(k): int(v) for k, v in data.get("aliases", {}).items()}
            miner._variants = {(int(t), tuple(str(v) for v in vs)): int(i) for t, vs, i in data["variants"]}
            miner._next_id = int(data["next_id"])
            miner._near = NearIndex.from_list(data.get("near", []))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{source}: damaged template state ({exc})") from None
        return miner


def event_text(template: Template, tokens: Sequence[str]) -> str:
    """The text of a line's event: its template with the low-cardinality values filled in."""
    out = list(template.tokens)
    for i in template.slots:
        out[i] = tokens[i]
    return _render(out, template.examples[0] if template.examples else None, template.constants_seen())


def save_state(miner: TemplateMiner, path: Path) -> None:
    """Write the miner's state as JSON (atomically: a temporary file, then a rename)."""
    with atomic_open(path) as stream:
        stream.write(json.dumps(miner.to_dict()))


def load_state(path: Path) -> TemplateMiner:
    """Read a state written by :func:`save_state`; InputError naming the file when unusable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read template state ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: not a Bastion template-miner state")
    return TemplateMiner.from_dict(data, source=str(path))
