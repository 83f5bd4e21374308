"""What every import does alike, so that a parser only reads its tool's fields.

:class:`Builder` receives one result at a time and makes the :class:`~bastion.findings.Finding`:

* the rule id namespaced by the tool (``trivy.CVE-2023-1234``, ``gitleaks.aws-access-token``),
  the scanner named after the tool;
* the severity from the tool's own word through ``tools.yml``, else from a CVSS score, else the
  tool's ``unrated`` level, and ``metadata["severity_source"]`` saying which;
* CVE ids kept: the tool's own id and its aliases stay in ``metadata["aliases"]``, and every CVE
  among them in ``metadata["cve"]``, the key findings of one vulnerability share across tools;
* the controls from the same mapping as Bastion's own rules (:func:`bastion.comply.mapping.controls_for`),
  asked for the id the weakness has in Bastion (``deps.CVE-...``, ``sast.bandit.B602``) or for the
  Bastion rule the tool's check is equivalent to;
* a fingerprint from what the result is about (package and version, rule and code, the hash of a
  secret), never its line, so the server's de-duplication holds across runs; a second result with
  the same fingerprint at another place is numbered, one at the same place is a duplicate.

:meth:`Builder.finish` scrubs every text of every finding before anything leaves the package:
first each secret the tool itself reported (gitleaks and TruffleHog print them in full) is replaced
by its redacted form wherever it appears, then every string is scrubbed with the rules the store
applies to any upload (:func:`bastion.store.sanitize.scrub_all`), as for a foreign SARIF log.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from bastion.advisories.severity import severity_from_score
from bastion.comply.mapping import controls_for
from bastion.findings import Confidence, Finding, Location, Severity, make_fingerprint
from bastion.imports.equivalents import Equivalent
from bastion.imports.model import Component, ImportResult, ToolSpec
from bastion.results import Notice, NoticeKind, Skip, Suppressed
from bastion.scan.secrets.redact import redact, secret_digest
from bastion.store.sanitize import scrub_all

__all__ = ["MIN_SECRET", "Builder", "cwe_ids", "slug"]

MIN_SECRET = 8
"""Shorter strings a tool calls secrets are not searched for (they would match everywhere, and the
built-in rules still scrub what they recognise)."""

_SLUG = re.compile(r"[^a-z0-9]+")
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$", re.IGNORECASE)
_CWE = re.compile(r"(?:cwe[-_ ]?)?(\d+)", re.IGNORECASE)


def slug(*parts: str) -> str:
    """``parts`` in lower-case-hyphen form: ``slug("DS002", "Image user is root")`` ->
    ``ds002-image-user-is-root``."""
    return _SLUG.sub("-", " ".join(parts).lower()).strip("-")


def _cves(ids: Iterable[object]) -> list[str]:
    """The CVE ids among a result's id and aliases, upper case, in order: what another tool's
    finding of the same vulnerability shares with this one (``metadata["cve"]``)."""
    return list(dict.fromkeys(str(i).upper() for i in ids if isinstance(i, str) and _CVE.match(i.strip())))


def cwe_ids(values: Iterable[object]) -> tuple[int, ...]:
    """CWE numbers from the ways tools write them: ``CWE-79``, ``cwe-79``, ``"79"``, ``79``,
    ``CWE-78: Improper Neutralization...``; anything else is left out."""
    found: set[int] = set()
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            found.add(value)
        elif isinstance(value, str) and (match := _CWE.match(value.strip())) and int(match[1]) > 0:
            found.add(int(match[1]))
    return tuple(sorted(found))


class Builder:
    """Collects one report's results as findings; see the module documentation."""

    def __init__(self, tool: str, spec: ToolSpec) -> None:
        self.tool = tool
        self.spec = spec
        self.version = ""
        """The tool's version when the report names it."""
        self._findings: list[Finding] = []
        self._suppressed: list[tuple[Finding, str]] = []
        self._places: dict[str, tuple[Location, int]] = {}
        self._secrets: set[str] = set()
        self._skips: list[Skip] = []
        self._notices: list[Notice] = []
        self._inventory: list[Component] = []
        self._duplicates = 0

    def severity(self, word: object, score: float | None = None) -> tuple[Severity, str]:
        """The severity for the tool's ``word`` (or CVSS ``score``) and where it came from:
        ``tool``, ``cvss`` or the spec's unrated source."""
        if word is not None:
            known = self.spec.severities.get(str(word).strip().lower())
            if known is not None:
                return known, "tool"
        if score is not None:
            return severity_from_score(score), "cvss"
        return self.spec.unrated, self.spec.unrated_source

    def secret(self, value: object) -> str:
        """Remember ``value`` as a secret the report holds in full (it is redacted wherever it
        appears); return its SHA-256, which fingerprints may use."""
        text = str(value) if value is not None else ""
        if len(text) >= MIN_SECRET:
            self._secrets.add(text)
        return secret_digest(text)

    def add(
        self,
        kind: str,
        native_id: str,
        *,
        title: str,
        severity: tuple[Severity, str],
        location: Location,
        message: str,
        content: str,
        evidence: str = "",
        confidence: Confidence = Confidence.HIGH,
        cwe: tuple[int, ...] = (),
        fix: str = "",
        help_uri: str = "",
        metadata: Mapping[str, Any] | None = None,
        equivalent: Equivalent | None = None,
        suppressed: str | None = None,
    ) -> None:
        """One result of kind ``kind`` (a key of the tool's ``kinds``) under the tool's own rule id.

        ``content`` is what the result is about, for the fingerprint; ``equivalent`` the Bastion
        rule the tool's check matches (its controls apply, and its CWE where the tool names
        none); ``suppressed`` the reason when the
        report itself set the result aside (it goes to the suppressed list, not the findings)."""
        spec = self.spec.kinds[kind]
        native = str(native_id).strip() or "unknown"
        rule_id = f"{self.tool}.{native}"
        controls_id = (
            equivalent.rule_id
            if equivalent
            else spec.controls_as.format(tool=self.tool, id=native, slug=slug(native, title))
        )
        extra: dict[str, Any] = {
            "tool": self.tool,
            "native_rule_id": native,
            "category": spec.category.value,
            "severity_source": severity[1],
        }
        if equivalent:
            extra["equivalent_ids"] = [equivalent.rule_id]
        aliases = (metadata or {}).get("aliases")
        cves = _cves([native, *(aliases if isinstance(aliases, list) else [])])
        if cves:
            extra["cve"] = cves
        finding = Finding(
            rule_id=rule_id,
            scanner=self.tool,
            title=title.strip() or rule_id,
            severity=severity[0],
            location=location,
            message=message.strip() or title.strip() or rule_id,
            fingerprint=self._fingerprint(rule_id, location, content),
            evidence=evidence,
            confidence=confidence,
            cwe=cwe or (equivalent.cwe if equivalent else ()) or spec.cwe,
            controls=controls_for(controls_id),
            fix=fix,
            help_uri=help_uri,
            metadata={**extra, **(metadata or {})},
        )
        if not finding.fingerprint:
            return
        if suppressed is None:
            self._findings.append(finding)
        else:
            self._suppressed.append((finding, suppressed))

    def _fingerprint(self, rule_id: str, location: Location, content: str) -> str:
        """Stable fingerprint; "" for a duplicate of an earlier result at the same place."""
        fingerprint = make_fingerprint(rule_id, location, content)
        seen = self._places.get(fingerprint)
        if seen is None:
            self._places[fingerprint] = (location, 1)
            return fingerprint
        place, count = seen
        if place == location:
            self._duplicates += 1
            return ""
        self._places[fingerprint] = (place, count + 1)
        return self._fingerprint(rule_id, location, f"{content}\x1f#{count + 1}")

    def skip(self, component: str, reason: str) -> None:
        """Something the tool says it could not check."""
        self._skips.append(Skip(component, reason))

    def notice(self, message: str, path: str | None = None) -> None:
        """Something worth telling about the report that is not a finding."""
        self._notices.append(Notice(NoticeKind.SCANNER, message, path, self.tool))

    def component(self, component: Component) -> None:
        """A package of an SBOM's inventory."""
        self._inventory.append(component)

    def finish(self) -> ImportResult:
        """The import's result, every text of every finding scrubbed of secrets."""
        findings = self._scrub(self._findings)
        set_aside = self._scrub([finding for finding, _ in self._suppressed])
        reasons = [str(scrub_all([reason])[0]) for _, reason in self._suppressed]
        return ImportResult(
            tool=self.tool,
            tool_version=self.version,
            findings=findings,
            suppressed=[Suppressed(f, r) for f, r in zip(set_aside, reasons, strict=True)],
            skips=[Skip(s.component, str(scrub_all([s.reason])[0])) for s in self._skips],
            notices=self._notices,
            inventory=self._inventory,
            duplicates=self._duplicates,
        )

    def _scrub(self, findings: list[Finding]) -> list[Finding]:
        """``findings`` with every text scrubbed as :func:`~bastion.store.sanitize.scrub_all` does,
        each distinct text once: a report repeats its advisories' texts across packages and
        targets, and the store's scrubber costs time in proportion to the text it is given."""
        if not findings:
            return findings
        documents = [f.to_dict() for f in findings]
        if self._secrets:
            pattern = re.compile("|".join(re.escape(s) for s in sorted(self._secrets, key=len, reverse=True)))
            documents = [{**_hide(d, pattern), "fingerprint": d["fingerprint"]} for d in documents]
        distinct = list(dict.fromkeys(leaf for d in documents for leaf in _texts(d)))
        cleaned = scrub_all(distinct)
        changed = {before: after for before, after in zip(distinct, cleaned, strict=True) if after != before}
        if changed:
            documents = [{**_swap(d, changed), "fingerprint": d["fingerprint"]} for d in documents]
        elif not self._secrets:
            return findings
        return [Finding.from_dict(d) for d in documents]


def _texts(value: Any) -> list[str]:
    """Every string and mapping key inside a finding's JSON form."""
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            found.extend(str(k) for k in item)
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return found


def _swap(value: Any, changed: Mapping[str, str]) -> Any:
    """``value`` with each string (and key) in ``changed`` replaced by its scrubbed form."""
    if isinstance(value, str):
        return changed.get(value, value)
    if isinstance(value, dict):
        return {changed.get(str(k), str(k)): _swap(v, changed) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_swap(v, changed) for v in value]
    return value


def _hide(value: Any, pattern: re.Pattern[str]) -> Any:
    """``value`` with every match of ``pattern`` (the known secrets) redacted, keys included."""
    if isinstance(value, str):
        return pattern.sub(lambda m: redact(m.group(0)), value)
    if isinstance(value, dict):
        return {_hide(str(k), pattern): _hide(v, pattern) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_hide(v, pattern) for v in value]
    return value
