#!/usr/bin/env python3
"""Applies catalogue-sources.json to data/catalogue.json (issue 22).

For each offering: the corrections replace the fields they name, the sources are added as the
offering's `sources` list, and `uncertain` becomes the fields no kept source supports.

Sources on a test or staging copy of a site, on an unofficial mirror, a newspaper, or over plain
http are not kept: a counsellor must be able to open the page and trust its owner. Nor are leads
that confirm no field (they stay in notes.md). A field whose
only support was such a source goes back to `uncertain`.

Run from the repository root; it rewrites data/catalogue.json and prints the counts.
"""
import json
import sys

FACTS = ["responsible_actor", "legal_basis", "financing", "livelihood",
         "typical_duration", "prerequisites", "info_url"]
NOT_KEPT = ("imdiny-prep.imdi.no", "hkdirweb-dev.azurewebsites.net",
            "trafikksiden.motocross.io", "www.dagsavisen.no")

research = json.load(open("docs/research/catalogue-sources/catalogue-sources.json"))
catalogue = json.load(open("data/catalogue.json"))
counts = {"confirmed": 0, "corrected": 0, "uncertain": 0}
dropped = []
for o in catalogue:
    r = research[o["key"]]
    kept = []
    for s in r["sources"]:
        host = s["url"].split("/")[2]
        if host in NOT_KEPT or not s["url"].startswith("https://") or not s["fields"]:
            dropped.append((o["key"], s["url"]))
            continue
        kept.append({k: s[k] for k in ("title", "url", "checked", "fields", "note")})
    supported = {f for s in kept for f in s["fields"]}
    corrected = set(r["corrections"]) & supported
    for f, v in r["corrections"].items():
        if f in supported:
            o[f] = v
    o["uncertain"] = [f for f in FACTS if f not in supported]
    o["sources"] = kept
    counts["corrected"] += len(corrected)
    counts["confirmed"] += len(supported) - len(corrected)
    counts["uncertain"] += len(o["uncertain"])

with open("data/catalogue.json", "w") as fh:
    fh.write(json.dumps(catalogue, indent=2, ensure_ascii=False) + "\n")
print(counts, "of", len(catalogue) * len(FACTS), "facts;", len(dropped), "sources not kept:",
      file=sys.stderr)
for k, u in dropped:
    print("  ", k, u, file=sys.stderr)
