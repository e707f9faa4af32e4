"""Build the national reference tables of ``ingest/data`` from the Etalab « découpage administratif » package.

Run by hand (never at run time; stdlib only, Node not needed):

    npm pack @etalab/decoupage-administratif          # -> etalab-decoupage-administratif-X.Y.Z.tgz
    tar xzf etalab-decoupage-administratif-*.tgz       # -> package/
    apt-get download wfrench && dpkg -x wfrench_*.deb wfrench   # optional: the French word list
    python ingest/data/build_france.py package --words wfrench/usr/share/dict/french

It writes, beside itself (UTF-8, tab-separated, ``#`` header lines recording the source):

- ``france_communes.tsv``: every current commune (type ``commune-actuelle``; the arrondissements municipaux
  of Paris, Lyon and Marseille only through their commune, whose postal codes already include theirs):
  insee, name, postal codes (``|``), department, EPCI SIREN, population;
- ``france_epcis.tsv``: every EPCI à fiscalité propre: SIREN, name, type, number of member communes;
- ``france_departments.tsv`` (code, name, region) and ``france_regions.tsv`` (code, name);
- with ``--words``: ``france_common_words.tsv``, the folded tokens of commune names that are also French
  words (lower-case entries of the word list): such a name is a place in a question only with a locative
  cue ("à Bar", not "un bar"). Only tokens of commune names are written, never the word list itself.
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import json
import re
import sys
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
_TOKEN = re.compile(r"(?:[^\W_]|[\u0300-\u036f])+")


def fold(text: str) -> str:
    """Same folding as ``ingest.gazetteer.fold`` (kept here so the script needs nothing of the project)."""
    text = text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


def _clean(value: object) -> str:
    text = str(value)
    if "\t" in text or "\n" in text:
        raise ValueError(f"tab or line break in a value: {text!r}")
    return text


def _header(title: str, columns: str, source: str, command: str) -> list[str]:
    return [
        f"# {title}",
        f"# Source: {source}",
        f"# Built on {datetime.date.today().isoformat()} with: {command}",
        "# UTF-8, tab-separated, '#' lines are comments, then one header row; '|' separates list items.",
        f"# Columns: {columns}",
    ]


def _write(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{path.name}: {len([x for x in lines if not x.startswith('#')]) - 1} rows, {path.stat().st_size} bytes")


def build(package: Path, words: Path | None, out: Path, command: str) -> None:
    meta = json.loads((package / "package.json").read_text(encoding="utf-8"))
    data = package / "data"
    source = (
        f"npm package {meta['name']} {meta['version']} (code licence {meta.get('license', '?')}; data: Licence Ouverte "
        "Etalab, from INSEE Code officiel géographique, DGCL EPCI composition, La Poste postal codes)"
    )
    communes = json.loads((data / "communes.json").read_text(encoding="utf-8"))
    epcis = json.loads((data / "epci.json").read_text(encoding="utf-8"))
    departments = json.loads((data / "departements.json").read_text(encoding="utf-8"))
    regions = json.loads((data / "regions.json").read_text(encoding="utf-8"))

    epci_of: dict[str, str] = {}
    for epci in epcis:
        for member in epci["membres"]:
            if member["code"] in epci_of:
                raise ValueError(f"commune {member['code']} in two EPCIs")
            epci_of[member["code"]] = epci["code"]

    current = sorted((c for c in communes if c["type"] == "commune-actuelle"), key=lambda c: c["code"])
    by_code = {c["code"]: c for c in current}
    for arrondissement in (c for c in communes if c["type"] == "arrondissement-municipal"):
        parent = by_code[arrondissement["commune"]]
        missing = set(arrondissement.get("codesPostaux", [])) - set(parent.get("codesPostaux", []))
        if missing:
            raise ValueError(f"postal codes {sorted(missing)} of {arrondissement['nom']} not on {parent['nom']}")

    rows = _header(
        "Communes of France (current communes; arrondissements municipaux only through their commune).",
        "insee, name, postal_codes, department, epci_siren (empty: in no EPCI), population",
        source,
        command,
    )
    rows.append("insee\tname\tpostal_codes\tdepartment\tepci_siren\tpopulation")
    for c in current:
        cells = [
            c["code"],
            c["nom"],
            "|".join(c.get("codesPostaux", [])),
            c["departement"],
            epci_of.get(c["code"], ""),
            str(c.get("population", "")),
        ]
        rows.append("\t".join(_clean(x) for x in cells))
    _write(out / "france_communes.tsv", rows)

    rows = _header("EPCI à fiscalité propre of France.", "siren, name, type, members", source, command)
    rows.append("siren\tname\ttype\tmembers")
    for epci in sorted(epcis, key=lambda e: e["code"]):
        rows.append("\t".join(_clean(x) for x in (epci["code"], epci["nom"], epci["type"], len(epci["membres"]))))
    _write(out / "france_epcis.tsv", rows)

    rows = _header("Departments of France (and collectivités d'outre-mer).", "code, name, region", source, command)
    rows.append("code\tname\tregion")
    for d in departments:
        rows.append("\t".join(_clean(x) for x in (d["code"], d["nom"], d.get("region", ""))))
    _write(out / "france_departments.tsv", rows)

    rows = _header("Regions of France (and collectivités d'outre-mer).", "code, name", source, command)
    rows.append("code\tname")
    for r in regions:
        rows.append("\t".join(_clean(x) for x in (r["code"], r["nom"])))
    _write(out / "france_regions.tsv", rows)

    if words is not None:
        lower = {fold(w.strip()) for w in words.read_text(encoding="utf-8").splitlines() if w.strip()[:1].islower()}
        tokens = {fold(t) for c in current for t in _TOKEN.findall(c["nom"])}
        common = sorted(t for t in tokens if t in lower)
        rows = [
            "# Folded tokens of commune names (france_communes.tsv) that are also French words: a commune whose",
            "# tokens are all such words ('Bar', 'Mont', 'Eu', 'Le Port', 'Bois-Colombes') is a place in a question",
            "# only with a locative cue ('à Bar', 'habite Mont') or as a hyphenated capitalised name.",
            "# Source: the lower-case entries of Debian's wfrench word list (/usr/share/dict/french, wfrench "
            f"{_words_version(words)}), used only as a membership test; {source}.",
            f"# Built on {datetime.date.today().isoformat()} with: {command}",
            "word",
            *common,
        ]
        _write(out / "france_common_words.tsv", rows)


def _words_version(words: Path) -> str:
    for parent in words.parents:
        changelog = parent / "share/doc/wfrench/changelog.Debian.gz"
        if changelog.exists():
            first = gzip.decompress(changelog.read_bytes()).decode("utf-8", "replace").splitlines()[0]
            match = re.search(r"\(([^)]+)\)", first)
            return match.group(1) if match else "?"
    return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("package", type=Path, help="the unpacked npm package folder (with package.json and data/)")
    parser.add_argument("--words", type=Path, help="a French word list, one word a line (Debian's wfrench)")
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: beside this script)")
    args = parser.parse_args(argv)
    command = "python ingest/data/build_france.py " + " ".join(sys.argv[1:] if argv is None else argv)
    build(args.package, args.words, args.out, command)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
