"""The guide parser on the bundled corpus and on small guides of the same format."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from click.testing import CliRunner

from rag.cli import cli
from rag.config import BUNDLED_CORPUS
from rag.ingest.guide import GuideParseError, parse_guide
from rag.ingest.load import load_entries
from tests.conftest import FIXTURES


def by_title(entries, title):
    return next(e for e in entries if e.kind == "paper" and e.title == title)


def test_bundled_corpus_has_24_papers_10_postings_and_one_overview(corpus_entries):
    assert Counter(e.kind for e in corpus_entries) == {"paper": 24, "posting": 10, "overview": 1}


@pytest.mark.parametrize(
    ("title", "area", "first_author", "n_authors"),
    [
        (
            "Understanding the training speedup from sampling with approximate losses",
            "Active learning",
            "Rudrajit Das",
            5,
        ),
        ("Online adaptive anomaly thresholding with confidence sequences", "Anomaly detection", "Sophia Sun", 3),
        (
            "EMC2: Efficient MCMC negative sampling for contrastive learning with global convergence",
            "Contrastive learning",
            "Chung Yiu Yau",
            5,
        ),
        (
            "Variance-reduced zeroth-order methods for fine-tuning language models",
            "Learning algorithms",
            "Tanmay Gautam",
            5,
        ),
        ("Membership inference attacks on diffusion models via quantile regression", "Privacy", "Shuai Tang", 5),
        (
            "Near-optimal regret in linear MDPs with aggregate bandit feedback",
            "Reinforcement learning",
            "Asaf Cassel",
            4,
        ),
        (
            "Transferring knowledge from large foundation models to small downstream models",
            "Transfer learning",
            "Shikai Qiu",
            6,
        ),
    ],
)
def test_papers_have_area_and_authors(corpus_entries, title, area, first_author, n_authors):
    paper = by_title(corpus_entries, title)
    assert paper.area == area
    assert paper.authors[0] == first_author
    assert len(paper.authors) == n_authors


def test_parenthesised_names_stay_one_author(corpus_entries):
    paper = by_title(corpus_entries, "Online adaptive anomaly thresholding with confidence sequences")
    assert paper.authors[2] == "Balakrishnan (Murali) Narayanaswamy"


def test_every_area_has_its_papers(corpus_entries):
    areas = Counter(e.area for e in corpus_entries if e.kind == "paper")
    assert len(areas) == 20
    assert areas["Reinforcement learning"] == 3
    assert areas["Learning algorithms"] == 2
    assert areas["Privacy"] == 2


def test_four_captions_attach_to_the_papers_they_describe(corpus_entries):
    captioned = {e.title: e.extra["figure"] for e in corpus_entries if e.caption}
    assert captioned == {
        "Online adaptive anomaly thresholding with confidence sequences": "Anomaly detection.png",
        "Explaining probabilistic models with distributional values": "Explainable AI.png",
        "Differentially private bias-term fine-tuning of foundation models": "Bias-term fine-tuning.png",
        "Learning the target network in function space": "Function space v. parameter space.png",
    }
    rl = by_title(corpus_entries, "Learning the target network in function space")
    assert "parameter value equivalence" in rl.caption


def test_place_names_come_from_iso_codes_and_unknown_codes_add_nothing():
    from rag.ingest.entries import place_names

    assert place_names("US", "MA") == "Massachusetts, United States"
    assert place_names("ES", "B") == "Barcelona, Spain"
    assert place_names("ES", "") == "Spain"
    assert place_names("ES", "ZZZ") == "Spain"
    assert place_names("QQ", "MA") == ""


def test_postings_have_locations_and_stable_distinct_ids(corpus_entries):
    postings = [e for e in corpus_entries if e.kind == "posting"]
    assert Counter(p.city for p in postings) == {
        "Boston": 5,
        "Barcelona": 1,
        "Bengaluru": 1,
        "Madrid": 1,
        "Gurugram": 1,
        "Bellevue": 1,
    }
    madrid = next(p for p in postings if p.city == "Madrid")
    assert (madrid.country, madrid.region) == ("ES", "M")
    bengaluru = next(p for p in postings if p.city == "Bengaluru")
    assert bengaluru.body().startswith("Job posting in Bengaluru, KA, IN (Karnataka, India).")
    assert "Haul" in madrid.text
    assert len({p.id for p in postings}) == 10
    # Six postings share one text but stay separate entries.
    assert Counter(p.text for p in postings).most_common(1)[0][1] == 6


def test_ids_are_stable_across_parses(corpus_entries):
    again = load_entries([BUNDLED_CORPUS])
    assert [e.id for e in again] == [e.id for e in corpus_entries]
    assert [e.content_hash for e in again] == [e.content_hash for e in corpus_entries]


def test_overview_holds_the_title_and_intro(corpus_entries):
    overview = next(e for e in corpus_entries if e.kind == "overview")
    assert overview.id == "overview/icml-2024"
    assert overview.title.startswith("A quick guide to Amazon")
    assert "theoretical" in overview.text and "continual learning" in overview.text
    assert not any(e.title in ("Research areas", "Related content") for e in corpus_entries)


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
    result = CliRunner().invoke(cli, ["parse", str(BUNDLED_CORPUS), "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert len(rows) == 35
    assert set(rows[0]) >= {"id", "kind", "title", "authors", "area", "country", "region", "city", "text"}
    boston = [r for r in rows if r["city"] == "Boston"]
    assert len(boston) == 5 and boston[0]["country"] == "US"


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
