"""The chat page fits the index: heading, filters and examples from what it holds (no model, no index)."""

from __future__ import annotations

from rag.ui.page import corpus_page

GUIDE = [
    {"kind": "overview", "title": "A guide to harbour papers"},
    {"kind": "paper", "title": "TIDES: Forecasting tides", "authors": "Ana Ruiz; Bo Li", "area": "Forecasting"},
    {"kind": "paper", "title": "Wave models at scale", "authors": "Bo Li", "area": "Forecasting"},
    {"kind": "posting", "title": "Job posting", "city": "Oslo"},
    {"kind": "posting", "title": "Job posting", "city": "Oslo"},
]
DOCS = [
    {"kind": "chunk", "title": "usage.md › Usage"},
    {"kind": "chunk", "title": "usage.md › Usage › Continuing a conversation (part 1)"},
    {"kind": "chunk", "title": "usage.md › Usage › Continuing a conversation (part 2)"},
    {"kind": "chunk", "title": "setup.md › Setup › Installing plugins"},
    {"kind": "chunk", "title": "report.pdf, page 2"},
]


def test_a_guide_gets_its_title_its_filters_and_questions_about_its_entries():
    page = corpus_page(GUIDE, "guides")
    assert page.heading == "A guide to harbour papers"
    assert (page.kinds, page.areas, page.cities) == (["paper", "posting"], ["Forecasting"], ["Oslo"])
    assert page.examples[:4] == [
        "What is “TIDES” about?",
        "Which papers did Bo Li co-author?",
        "Which papers are listed under Forecasting?",
        "How many job postings are in Oslo?",
    ]


def test_a_folder_of_documents_gets_no_paper_or_city_controls_and_questions_about_its_sections():
    page = corpus_page(DOCS, "mydocs")
    assert page.heading == "Ask 'mydocs': 5 passages from 3 documents"
    assert (page.kinds, page.areas, page.cities) == ([], [], [])
    assert page.examples == [
        "What does setup.md say about Installing plugins?",
        "What does usage.md say about Continuing a conversation?",
    ]
