"""The guide parser and the document readers on the mini corpus (tests/fixtures/mini) and on small guides."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from click.testing import CliRunner

from rag.cli import cli
from rag.ingest.guide import GuideParseError, parse_guide
from rag.ingest.load import load_entries
from tests.conftest import FIXTURES, MINI, MINI_GUIDE


def by_title(entries, title):
    return next(e for e in entries if e.kind == "paper" and e.title == title)


TIDEGRAPH = "TIDEGRAPH: Streaming graph partitioning with bounded memory"
SPARSE = "Sparse message passing for molecule property prediction"
WALKER = "WALKER: Label-efficient graph node classification with random walks"
KESTREL = "KESTREL: Low-latency speech recognition on small devices"


def test_the_mini_corpus_has_four_papers_three_postings_an_overview_and_five_chunks(mini_entries):
    assert Counter(e.kind for e in mini_entries) == {"paper": 4, "posting": 3, "overview": 1, "chunk": 5}
    assert Counter(e.source.rsplit("/", 1)[-1] for e in mini_entries) == {
        "guide.txt": 8,
        "logbook.md": 3,
        "pier.html": 2,
    }


@pytest.mark.parametrize(
    ("title", "area", "authors"),
    [
        (TIDEGRAPH, "Graph learning", ("Mira Okafor", "Tomas Lindqvist", "Priya Raghunathan")),
        (SPARSE, "Graph learning", ("Tomas Lindqvist", "Hana Sato")),
        (WALKER, "Graph learning", ("Elena Ferreira",)),
        (KESTREL, "Speech recognition", ("Priya Raghunathan", "Tomas Lindqvist", "Jonas (Joe) Weber")),
    ],
)
def test_papers_have_area_and_authors(mini_entries, title, area, authors):
    paper = by_title(mini_entries, title)
    assert paper.area == area
    assert paper.authors == authors
    assert paper.body().startswith(f"Paper: {title}\nAuthors: {', '.join(authors)}\nResearch area: {area}")


def test_parenthesised_names_stay_one_author(mini_entries):
    assert by_title(mini_entries, KESTREL).authors[2] == "Jonas (Joe) Weber"


def test_every_area_has_its_papers(mini_entries):
    areas = Counter(e.area for e in mini_entries if e.kind == "paper")
    assert areas == {"Graph learning": 3, "Speech recognition": 1}


def test_a_caption_attaches_to_the_paper_it_quotes_not_the_one_above_it(mini_entries):
    # The figure follows the message passing paper but quotes TIDEGRAPH's title.
    captioned = {e.title: e.extra["figure"] for e in mini_entries if e.caption}
    assert captioned == {TIDEGRAPH: "Streaming partitions.png"}
    tidegraph = by_title(mini_entries, TIDEGRAPH)
    assert "memory stays below 64 megabytes" in tidegraph.caption
    assert tidegraph.body().endswith("Figure caption: " + tidegraph.caption)


def test_place_names_come_from_iso_codes_and_unknown_codes_add_nothing():
    from rag.ingest.entries import place_names

    assert place_names("US", "MA") == "Massachusetts, United States"
    assert place_names("ES", "B") == "Barcelona, Spain"
    assert place_names("ES", "") == "Spain"
    assert place_names("ES", "ZZZ") == "Spain"
    assert place_names("QQ", "MA") == ""


def test_postings_have_locations_and_stable_distinct_ids(mini_entries):
    postings = [e for e in mini_entries if e.kind == "posting"]
    assert Counter(p.city for p in postings) == {"Toronto": 2, "Amsterdam": 1}
    amsterdam = next(p for p in postings if p.city == "Amsterdam")
    assert (amsterdam.country, amsterdam.region) == ("NL", "NH")
    assert amsterdam.label == "Job posting, Amsterdam, NH, NL"
    assert amsterdam.body().startswith("Job posting in Amsterdam, NH, NL (Noord-Holland, Netherlands).")
    assert "hearing aids" in amsterdam.text
    assert [p.id for p in postings] == [
        "posting/sigmetrics-2031/toronto-1",
        "posting/sigmetrics-2031/toronto-2",
        "posting/sigmetrics-2031/amsterdam-1",
    ]
    # Two postings share one text but stay separate entries.
    assert Counter(p.text for p in postings).most_common(1)[0][1] == 2


def test_ids_are_stable_across_parses(mini_entries):
    again = load_entries([MINI])
    assert [e.id for e in again] == [e.id for e in mini_entries]
    assert [e.content_hash for e in again] == [e.content_hash for e in mini_entries]


def test_overview_holds_the_title_and_intro(mini_entries):
    overview = next(e for e in mini_entries if e.kind == "overview")
    assert overview.id == "overview/sigmetrics-2031"
    assert overview.title == "A quick guide to Harbor Labs’ papers at SIGMETRICS 2031"
    assert "two areas of focus" in overview.text and "commodity hardware" in overview.text
    assert not any(e.title in ("Research areas", "Related content") for e in mini_entries)


def test_the_documents_are_cut_by_heading_with_code_kept_whole_and_page_furniture_dropped(mini_entries):
    chunks = [e for e in mini_entries if e.kind == "chunk"]
    assert [e.title for e in chunks] == [
        "logbook.md › Logbook",
        "logbook.md › Logbook › Setup › Installing",
        "logbook.md › Logbook › Exporting readings",
        "pier.html › North pier rules",
        "pier.html › North pier rules › Fishing",
    ]
    installing = chunks[1].text
    assert "```bash\n# not a heading: a comment inside the code block\n" in installing and installing.endswith("```")
    page = " ".join(e.text for e in chunks[3:])
    assert "opens at 06:30" in page and "- Each angler may use at most two rods." in page
    assert not any(word in page for word in ("All piers", "tracking code", "Cookie settings", "font-family"))


def test_other_guides_with_area_descriptions_parse():
    entries = load_entries([FIXTURES / "neurips-guide.txt"])
    kinds = Counter(e.kind for e in entries)
    assert kinds == {"overview": 2, "paper": 2, "posting": 2}
    area = next(e for e in entries if e.id == "overview/neurips-2023/area-conversational-ai")
    assert "dialogue systems" in area.text
    paper = next(e for e in entries if e.kind == "paper" and e.area == "Conversational AI")
    assert paper.authors == ("Jane Doe", "Ravi van der Berg")
    assert "dialogue loop" in paper.caption
    # The tag list after "Research areas" is not an area.
    assert {e.area for e in entries if e.kind == "paper"} == {"Conversational AI", "Time series"}
    assert {e.id for e in entries if e.kind == "posting"} == {
        "posting/neurips-2023/new-york-1",
        "posting/neurips-2023/berlin-1",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "A quick guide to Amazon's papers at X 2025\n\nIntro.\n\nRobotics\n\nA title without authors\n\n"
            "Vision\n\nA paper\nSome Author\n",
            "research area 'Robotics' has no papers",
        ),
        (
            "A quick guide to Amazon's papers at X 2025\n\nIntro.\n\nVision\n\nA paper\nSome Author\n\n"
            "Related content\n\nUS, WA, Seattle\n",
            "posting at 'Seattle' has no description",
        ),
        (
            "A quick guide to Amazon's papers at X 2025\n\nIntro.\n\nVision\n\nA paper\nSome Author\n\nfig.png\n",
            "figure 'fig.png' has no caption",
        ),
    ],
)
def test_truncated_entries_are_named(text, message):
    with pytest.raises(GuideParseError, match=message):
        parse_guide(text, "guide.txt")


def test_parse_json_prints_one_entry_per_line():
    result = CliRunner().invoke(cli, ["parse", str(MINI_GUIDE), "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert len(rows) == 8
    assert list(rows[0]) == ["id", "kind", "title", "authors", "area", "country", "region", "city", "text", "caption"]
    toronto = [r for r in rows if r["city"] == "Toronto"]
    assert len(toronto) == 2 and toronto[0]["country"] == "CA" and toronto[0]["region"] == "ON"
    walker = next(r for r in rows if r["title"].startswith("WALKER"))
    assert walker["authors"] == ["Elena Ferreira"] and walker["area"] == "Graph learning"


def test_same_named_files_in_different_folders_get_different_ids(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "notes.md").write_text(f"Notes kept by team {folder}.")
    from_folder = [e.id for e in load_entries([tmp_path])]
    one_by_one = [e.id for e in load_entries([tmp_path / "a" / "notes.md", tmp_path / "b" / "notes.md"])]
    assert from_folder == one_by_one == ["chunk/a/notes-md/1", "chunk/b/notes-md/1"]
    assert [e.id for e in load_entries([tmp_path / "a" / "notes.md"])] == ["chunk/notes-md/1"]


def test_symlinks_out_of_the_folder_are_skipped_unless_asked(tmp_path):
    folder, outside = tmp_path / "docs", tmp_path / "private"
    folder.mkdir(), outside.mkdir()
    (folder / "readme.md").write_text("The readme of the shared folder.")
    (outside / "secret.md").write_text("A private note that must not be indexed.")
    (folder / "link.md").symlink_to(outside / "secret.md")
    (folder / "linked-dir").symlink_to(outside, target_is_directory=True)
    warnings: list[str] = []
    entries = load_entries([folder], warn=warnings.append)
    assert [e.id for e in entries] == ["chunk/readme-md/1"]
    assert len(warnings) == 1 and "link.md" in warnings[0] and "outside" in warnings[0]
    followed = load_entries([folder], follow_symlinks=True)
    assert "private note" in " ".join(e.text for e in followed)


def test_files_differing_only_in_case_and_suffix_get_different_ids(tmp_path):
    (tmp_path / "LICENSE.txt").write_text("Redistribution is allowed.\n")
    (tmp_path / "license.md").write_text("# License\n\nSee LICENSE.txt.\n")
    ids = sorted(e.id for e in load_entries([tmp_path]))
    assert ids == ["chunk/license-md/1", "chunk/license-txt/1"]
