"""Research and entities files of synthetic county shapes, made from the real sample's rows (data/sample):
each shape's rows are copies of a real Del Norte entity's rows (Del Norte County Unified, or the Uncharted
Shores Academy charter) under other codes, names and years; a tiny LEA's counts and results are '*'. Not
real data: real layouts and real-looking numbers, so every stage reads them as it reads CDE's files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .conftest import SAMPLE

DNCUSD, CHARTER = "08618200000000", "08618200137729"
RESEARCH = {  # sample research file → the years its rows are copied into (2023: CAST only)
    "sb_ca2021_1_csv_v2__county08_DelNorte_plus_state.txt": {2021: 2021},
    "sb_ca2022_studentgroup1__county08_DelNorte_plus_state.txt": {2022: 2022},
    "cast_ca2021_1_csv_v2__county08_DelNorte_plus_state.txt": {2021: 2021, 2023: 2023},
}
ENTITIES_HEADER = "County Code^District Code^School Code^Filler^Test Year^Type ID^County Name^District Name^School Name^Zip Code"
GRADE, FIRST_COUNT, TYPE_FIELD = 9, 11, -1  # Grade; Students Enrolled; Type ID (the last field)


@dataclass(frozen=True)
class Entity:
    """A synthetic entity: its code, type, name by year (a renamed LEA has two), the real entity whose rows
    it copies, the years it has rows, and whether it is tiny (1–3 students: every value '*')."""

    cds: str
    type_id: int
    names: dict[int, str]
    template: str = DNCUSD
    years: tuple[int, ...] = (2021, 2022, 2023)
    tiny: bool = False
    district: str = ""  # a school's district name
    hidden: frozenset[int] = frozenset()  # grades whose rows are '*' after the enrolment (a suppression pattern)

    def name(self, year: int) -> str:
        """The name in `year`: the latest given on or before it (else the first)."""
        since = [y for y in self.names if y <= year]
        return self.names[max(since)] if since else self.names[min(self.names)]


@dataclass(frozen=True)
class County:
    code: str
    name: str
    entities: tuple[Entity, ...] = field(default=())
    years: tuple[int, ...] = (2021, 2022, 2023)


def shapes() -> list[County]:
    """The shapes of issue 13 in three counties (county codes and names of real small counties)."""
    return [
        County("02", "Alpine", (  # a county with one LEA, which has no schools and was renamed
            Entity("02613330000000", 6, {2021: "Alpine County Unified", 2022: "Alpine Unified"}),)),
        County("46", "Sierra", (
            Entity("46104620000000", 6, {2021: "Sierra County Office of Education"}, tiny=True),  # 1–3 students
            Entity("46642120000000", 6, {2023: "Sierra-Plumas Joint Unified"}, years=(2023,)),  # one year only
            Entity("46642126025969", 7, {2023: "Downieville Elementary"}, CHARTER, (2023,),
                   district="Sierra-Plumas Joint Unified"),
            Entity("46642200000000", 6, {2021: "Sierra Valley Elementary"}, years=(2021, 2022)),  # not in 2023
        )),
        County("26", "Mono", (  # charters only: no district has results
            Entity("26736760121111", 9, {2021: "Mono Charter Academy"}, CHARTER),
            Entity("26736760122222", 10, {2021: "Eastern Sierra Charter"}, CHARTER, tiny=True),
        )),
    ]


def _lines(path: Path) -> tuple[str, list[list[str]]]:
    text = path.read_text(encoding="cp1252")
    header, *rows = text.splitlines()
    return header, [r.split("^") for r in rows if r]


def _copy(rows: list[list[str]], e: Entity, year: int) -> list[list[str]]:
    """The template's rows as `e`'s in `year`; a tiny entity's counts 3 and results '*', hidden grades '*'."""
    out = []
    for row in rows:
        if "".join(row[:3]) != e.template:
            continue
        new = [e.cds[:2], e.cds[2:7], e.cds[7:], *row[3:]]
        new[4], new[TYPE_FIELD] = str(year), str(e.type_id)
        if e.tiny:
            new[7:9] = ["3", "3"]
            new[FIRST_COUNT] = "3"
        if e.tiny or int(new[GRADE]) in e.hidden:
            new[FIRST_COUNT + 1:TYPE_FIELD] = ["*" if v != "" else "" for v in new[FIRST_COUNT + 1:TYPE_FIELD]]
        out.append(new)
    return out


def write_research(folder: Path, counties: list[County], state: bool = True) -> list[Path]:
    """One research file per (sample file, year): the state's rows (relabelled to the year) and each shape's."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, years in RESEARCH.items():
        header, rows = _lines(SAMPLE / "research" / name)
        for source_year, year in years.items():
            out = [[*r[:4], str(year), *r[5:]] for r in rows if r[0] == "00" and state]
            for county in counties:
                if year in county.years:
                    out += _copy(rows, Entity(county.code + "0" * 12, 5, {year: county.name}), year)
                out += [r for e in county.entities if year in e.years for r in _copy(rows, e, year)]
            if not out:
                continue
            path = folder / f"{year}_{name}"
            path.write_text("\n".join([header, *("^".join(r) for r in out)]) + "\n", encoding="cp1252")
            written.append(path)
    return written


def write_entities(folder: Path, counties: list[County], years=(2021, 2022, 2023)) -> list[Path]:
    """One entities file per year (the 2021–2023 layout, CRLF): the state, each county and its entities."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for year in years:
        rows = [f"00^00000^0000000^^{year}^4^State of California^^^"]
        for county in counties:
            rows.append(f"{county.code}^00000^0000000^^{year}^5^{county.name}^^^")
            for e in county.entities:
                if year not in e.years:
                    continue
                district = e.district or e.name(year)
                school = e.name(year) if e.type_id in (7, 9, 10) else ""
                rows.append(f"{e.cds[:2]}^{e.cds[2:7]}^{e.cds[7:]}^^{year}^{e.type_id}^{county.name}^{district}^{school}^")
        path = folder / f"sb_ca{year}entities_shapes.txt"
        path.write_bytes(("\r\n".join([ENTITIES_HEADER, *rows]) + "\r\n").encode("cp1252"))
        written.append(path)
    return written


def write_data(folder: Path, counties: list[County] | None = None) -> Path:
    """A data folder of the shapes (default: `shapes()`): research and entities files."""
    counties = shapes() if counties is None else counties
    write_research(folder / "research", counties)
    write_entities(folder / "entities", counties)
    return folder


def read_entities(path: Path) -> list[dict[str, str]]:
    """A real entities file's rows (2021–2023 layout) as dicts of its header names."""
    header, rows = _lines(path)
    names = header.split("^")
    return [dict(zip(names, r)) for r in rows]
